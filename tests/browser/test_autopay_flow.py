"""A customer admin saves a demo card from the "Card and autopay" panel, turns autopay on, and the
daily run pays the invoice due that day; the panel and the invoice list say so."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from billing.invoicing.models import Invoice
from billing.payments_online.services import autopay_run, payment_provider_account_set
from partner_portal import clock
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.collections import invoice_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_admin_saves_a_demo_card_and_turns_autopay_on(page: Page, live_server, settings) -> None:
    settings.PAYMENTS_DEMO_PROVIDER = True
    tenant = make_tenant("Alpha")
    payment_provider_account_set(partner=tenant.partner, actor=tenant.admin, provider="demo")

    sign_in(page, tenant.customer_admin.email)
    page.goto("/my/")
    panel = page.locator("[data-card-panel]")
    panel.locator("[data-save-card]").click()

    expect(page.locator("h1")).to_contain_text("Save a card for")
    page.locator("[data-test-card='4242']").check()
    page.locator("[data-save-card]").click()

    expect(panel.locator("[data-saved-card]")).to_contain_text("Visa •••• 4242")
    expect(panel.locator("[data-autopay='off']")).to_be_visible()
    panel.locator("[data-autopay-on]").click()
    expect(panel.locator("[data-autopay='on']")).to_be_visible()

    due = clock.today(tenant.partner.time_zone) + dt.timedelta(days=3)
    invoice = invoice_due(tenant.customer, due, "120.00")
    with clock.frozen(due):
        assert autopay_run() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    page.reload()
    expect(page.locator(f"[data-pay-invoice='{invoice.number}']")).to_have_count(0)
