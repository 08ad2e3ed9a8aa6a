"""A partner admin creates a support plan, puts a customer on it from the customer's page, and the
customer sees the plan, its allowance and its targets on their support page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.tickets import offering
from tickets.models import CustomerSupportPlan

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_creates_a_plan_assigns_it_and_the_customer_sees_it(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    offering(tenant.partner)
    sign_in(page, tenant.admin.email)
    page.goto("/staff/tickets/")
    page.get_by_role("link", name="Support plans").first.click()
    page.get_by_role("link", name="New plan").click()
    page.get_by_label("Name", exact=True).fill("Gold")
    page.get_by_label("Name in Russian").fill("Золотой")
    page.locator("#id_description").fill("Priority support for the whole team.")
    page.get_by_label("Price model").select_option("monthly")
    page.get_by_label("Currency").select_option("USD")
    page.get_by_label("Monthly fee").fill("199.00")
    page.get_by_label("Included hours per month").fill("4")
    page.get_by_label("A · Every product family: first response").fill("15")
    page.get_by_label("A · Every product family: resolution").fill("120")
    page.get_by_role("button", name="Save plan").click()
    expect(page.locator(".alert")).to_contain_text("Support plan Gold saved.")
    expect(page.locator("table")).to_contain_text("Gold")

    page.goto(f"/staff/customers/{tenant.customer.pk}/")
    page.get_by_role("link", name="See support plan").click()
    page.get_by_label("Support plan").select_option(label="Gold")
    page.get_by_role("button", name="Save plan").click()
    expect(page.locator(".alert")).to_contain_text(f"Support plan of {tenant.customer.name} saved.")
    assert CustomerSupportPlan.objects.get(customer=tenant.customer).plan.name == "Gold"

    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(customer, tenant.customer_admin.email)
    customer.goto("/my/support/")
    card = customer.locator("section", has_text="Your support plan")
    expect(card).to_contain_text("Gold")
    expect(card).to_contain_text("Priority support for the whole team.")
    expect(card).to_contain_text("4 hours of support per month")
    expect(card).to_contain_text("199.00 USD per month.")
    expect(card).to_contain_text("15 minutes")
    customer.context.close()
