"""An administrator tries to change the currency of a customer with an open invoice: the edit page
refuses on the currency field with the sentence that says why, and nothing changes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from partner_portal.models import AuditEvent, Customer
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_currency_of_a_customer_with_an_open_invoice_is_refused_on_the_edit_page(page: Page) -> None:
    tenant = make_tenant("Alpha")
    issued(tenant.customer, line(quantity="1", unit_price="215.00"))  # open, in USD

    sign_in(page, tenant.admin.email)
    page.goto(f"/staff/customers/{tenant.customer.pk}/edit/")
    page.select_option("select[name=currency]", "EUR")
    page.fill("input[name=credit_days]", "45")
    page.locator("main form button[type=submit]").last.click()

    error = page.locator("#id_currency_error")
    expect(error).to_have_text(
        "The currency cannot change from USD to EUR while the customer has 1 open or draft invoice in USD: "
        "their amounts would no longer match. Settle, void or cancel them first."
    )
    expect(page.locator("select[name=currency]")).to_have_value("EUR")  # what was typed stays to correct
    customer = Customer.objects.get(pk=tenant.customer.pk)
    assert (customer.currency, customer.credit_days) == ("USD", tenant.customer.credit_days)
    assert not AuditEvent.objects.filter(action="customer.updated").exists()

    # Back to USD, the other change goes through.
    page.select_option("select[name=currency]", "USD")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("#id_currency_error")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("45")
    customer.refresh_from_db()
    assert (customer.currency, customer.credit_days) == ("USD", 45)
