"""A partner admin writes its payment instructions in both languages on the settings page; a customer
reading the portal in Russian sees the Russian ones, and switching to English brings the others."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, Page, expect

from partner_portal import clock
from partner_portal.models import Partner
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.collections import invoice_due

pytestmark = pytest.mark.django_db(transaction=True)

ENGLISH = "Bank transfer to Alpha Partners, IBAN GB00 TEST 0000 0000."
RUSSIAN = "Банковский перевод на счёт Alpha Partners, IBAN GB00 TEST 0000 0000."


def test_payment_instructions_in_both_languages(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    invoice_due(tenant.customer, clock.today(tenant.partner.time_zone) - dt.timedelta(days=5), "120.00")

    sign_in(page, tenant.admin.email)
    page.goto("/staff/settings/")
    page.locator("textarea[name=payment_instructions]").fill(ENGLISH)
    page.locator("textarea[name=payment_instructions_ru]").fill(RUSSIAN)
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".messages")).to_be_visible()
    saved = Partner.objects.get(pk=tenant.partner.pk)
    assert (saved.payment_instructions, saved.payment_instructions_ru) == (ENGLISH, RUSSIAN)

    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(customer, tenant.customer_admin.email)
    customer.goto("/my/")
    expect(customer.get_by_text(ENGLISH).first).to_be_visible()
    customer.get_by_role("button", name="Русский").click()
    expect(customer.get_by_text(RUSSIAN).first).to_be_visible()
    expect(customer.get_by_text(ENGLISH)).to_have_count(0)
    customer.get_by_role("button", name="English").click()
    expect(customer.get_by_text(ENGLISH).first).to_be_visible()
    customer.context.close()
