"""A customer presses Pay on an open invoice, pays on the demo provider's checkout page and comes back
to a page that says it was received; the invoice shows as paid."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from billing.invoicing.models import Invoice
from billing.payments_online.services import payment_provider_account_set
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_pays_an_invoice_by_card_through_the_demo_provider(page: Page, live_server, settings) -> None:
    settings.PAYMENTS_DEMO_PROVIDER = True
    tenant = make_tenant("Alpha")
    payment_provider_account_set(partner=tenant.partner, actor=tenant.admin, provider="demo")
    invoice = issued(tenant.customer, line("Microsoft 365 E3", "1", "250.00", "0"), on=dt.date(2026, 11, 2))

    sign_in(page, tenant.customer_admin.email)
    page.goto("/my/")
    page.locator(f"[data-pay-invoice='{invoice.number}']").click()

    expect(page.locator("[data-amount]")).to_contain_text("250.00")
    page.get_by_role("button", name="Pay", exact=True).click()

    expect(page.locator("h1")).to_contain_text("Thank you: your payment was received")
    page.get_by_role("link", name="Back").click()
    expect(page.locator(f"[data-pay-invoice='{invoice.number}']")).to_have_count(0)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
