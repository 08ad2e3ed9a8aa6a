"""A partner admin rewrites the +7 reminder, previews it on a customer's real invoice, saves it and
sees what the next collections run would send."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from billing.collections.models import Notice, NoticeTemplate
from partner_portal import clock
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.collections import invoice_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_edits_a_notice_previews_it_and_sees_the_dry_run(page: Page) -> None:
    tenant = make_tenant("Alpha")
    today = clock.today(tenant.partner.time_zone)
    invoice = invoice_due(tenant.customer, today - dt.timedelta(days=7), "100.00")

    sign_in(page, tenant.admin.email)
    page.goto("/staff/collections/policy/")
    page.get_by_role("link", name="Notice wording").click()
    row = page.locator("#notice-templates tbody tr").filter(has_text="+7")
    expect(row).to_contain_text("Built-in")
    row.get_by_role("link").click()

    page.fill("#id_subject_en", "Still open: {{ invoice_number }} ({{ amount_due }})")
    page.fill("#id_body_en", "Dear {{ contact_name }},\n\n{{ invoice_number }} is {{ days_overdue }} days late.")
    page.select_option("#id_customer", label=tenant.customer.name)
    page.get_by_role("button", name="Preview").first.click()
    expect(page.locator("#notice-preview-subject")).to_have_text(f"Still open: {invoice.number} (100.00\xa0USD)")
    expect(page.locator("#notice-preview-text")).to_contain_text(f"{invoice.number} is 7 days late.")

    page.get_by_role("button", name="Save wording").click()
    expect(page.locator(".messages")).to_contain_text("Notice wording saved")
    assert NoticeTemplate.objects.filter(partner=tenant.partner, offset_days=7).count() == 1

    page.goto("/staff/collections/notices/wording/")
    page.get_by_role("link", name="What would the next run do?").click()
    expect(page.locator("#dry-run-summary")).to_have_text("1 notice, 0 suspensions, 0 reactivations.")
    expect(page.locator("#dry-run")).to_contain_text(invoice.number)
    expect(page.locator("#dry-run")).to_contain_text("Reminder")
    assert Notice.objects.count() == 0
