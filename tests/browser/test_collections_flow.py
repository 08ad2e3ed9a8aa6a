"""An admin tightens the collections policy; a run suspends the overdue customer, who sees why on its
billing page; finance records the payment; the next run reactivates and the banner is gone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from billing.collections.models import CollectionPolicy, CollectionRun
from partner_portal import clock
from subscriptions.models import Subscription
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.collections import invoice_due
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_policy_edit_suspension_banner_payment_and_reactivation(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    tenant.partner.payment_instructions = "Bank transfer to Alpha Partners, IBAN GB00 TEST 0000 0000."
    tenant.partner.save()
    subscription = SubscriptionFactory(customer=tenant.customer, product="Microsoft 365 E3")
    today = clock.today(tenant.partner.time_zone)
    invoice = invoice_due(tenant.customer, today - dt.timedelta(days=27), "432.00", subscription)
    page.on("dialog", lambda dialog: dialog.accept())  # "Run collections now?"

    # The admin moves the suspension to 25 days after the due date and sets the minimum to 50.00.
    sign_in(page, tenant.admin.email)
    page.goto("/staff/collections/policy/")
    expect(page.locator("input[name=steps-5-offset_days]")).to_have_value("30")
    page.fill("input[name=steps-5-offset_days]", "25")
    page.fill("input[name=min_amount]", "50.00")
    page.click("main form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Collections policy saved")
    expect(page.locator("[data-policy-words]")).to_contain_text(
        "25 days after the due date we suspend the subscriptions billed on the overdue invoice "
        "if at least 50.00\xa0USD is overdue."
    )
    policy = CollectionPolicy.objects.get(partner=tenant.partner)
    assert (policy.min_amount, list(policy.steps.values_list("offset_days", flat=True))) == (
        Decimal("50.00"), [-3, 0, 7, 14, 21, 25],
    )  # fmt: skip

    # The admin runs collections now: the customer is 27 days late, past the suspension day.
    page.goto("/staff/collections/")
    page.click("text=Run collections now")
    expect(page.locator(".messages")).to_contain_text("1 notice, 1 suspension, 0 reactivations")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.suspension_source) == (Subscription.Status.SUSPENDED, "collections")

    # The customer signs in and sees what is suspended, why, and how to pay.
    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(customer, tenant.customer_admin.email)
    banner = customer.locator("[data-collections-banner=suspended]")
    expect(banner).to_contain_text("Some of your subscriptions are suspended for non-payment")
    expect(banner).to_contain_text("Microsoft 365 E3")
    expect(banner).to_contain_text(f"432.00\xa0USD is overdue on 1 invoice: {invoice.number}")
    expect(banner).to_contain_text("Bank transfer to Alpha Partners, IBAN GB00 TEST 0000 0000.")

    # Finance records the payment in the browser.
    finance = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    finance.on("dialog", lambda dialog: dialog.accept())
    sign_in(finance, tenant.finance.email)
    finance.goto(f"/staff/billing/payments/new/?customer={tenant.customer.pk}")
    finance.fill("input[name=amount]", "432.00")
    finance.fill("input[name=reference]", "BACS 0042")
    finance.locator("main form button[type=submit]").last.click()
    expect(finance.locator(".messages")).to_contain_text("Payment of 432.00 USD")

    # The next run reactivates; the customer's banner is gone.
    finance.goto("/staff/collections/runs/")
    finance.click("text=Run collections now")
    expect(finance.locator(".messages")).to_contain_text("0 notices, 0 suspensions, 1 reactivation.")
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert CollectionRun.objects.filter(partner=tenant.partner, status="done").count() == 2
    customer.reload()
    expect(customer.locator("main")).to_contain_text("Welcome")
    expect(customer.locator("[data-collections-banner]")).to_have_count(0)
    customer.context.close()
    finance.context.close()
