"""Finance suspends a subscription with a reason; the history shows it, the customer sees it
suspended; finance reactivates it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from subscriptions.models import Subscription
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_suspend_and_reactivate_a_subscription(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    sub = SubscriptionFactory(customer=tenant.customer, product="Microsoft 365 E5")

    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/customers/{tenant.customer.pk}/")
    page.locator("main .page-actions").get_by_role("link", name="Subscriptions").click()
    page.get_by_role("link", name="Microsoft 365 E5").click()
    page.get_by_role("link", name="Suspend").click()
    page.fill("textarea[name=reason]", "Invoice INV-2026-000042 is 30 days overdue")
    page.locator("main form button[type=submit]").click()
    main = page.locator("main")
    expect(main).to_contain_text("Suspension requested")
    expect(page.locator("h1")).to_contain_text("Suspended")  # the record-only backend confirms at once
    expect(main).to_contain_text("Invoice INV-2026-000042 is 30 days overdue")
    assert Subscription.objects.get(pk=sub.pk).status == "suspended"

    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(customer, tenant.customer_admin.email)
    expect(customer.locator("main")).to_contain_text("Suspended")
    customer.context.close()

    page.get_by_role("link", name="Reactivate").click()
    page.fill("textarea[name=reason]", "Paid in full")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Active")
    assert Subscription.objects.get(pk=sub.pk).status == "active"
