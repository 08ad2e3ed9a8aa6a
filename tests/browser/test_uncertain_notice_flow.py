"""Finance finds a notice the portal is not sure it sent, with its Message-ID, marks one as sent and
sends the other again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from billing.collections.models import Notice
from billing.collections.services import collections_run
from partner_portal import clock
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories import CustomerFactory
from tests.factories.collections import invoice_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_decides_about_uncertain_notices(page: Page) -> None:
    tenant = make_tenant("Alpha")
    today = clock.today(tenant.partner.time_zone)
    other = CustomerFactory(partner=tenant.partner, name="Beta Customer")
    invoices = [invoice_due(customer, today - dt.timedelta(days=7), "100.00") for customer in (tenant.customer, other)]
    collections_run(partner=tenant.partner, run_date=today)
    assert len(mail.outbox) == 2
    # Both workers were killed right after the mail server took the emails, an hour ago.
    Notice.objects.filter(partner=tenant.partner).update(
        status="sending", claimed_at=clock.now() - dt.timedelta(hours=1)
    )
    first, second = (Notice.objects.get(invoice=invoice) for invoice in invoices)
    page.on("dialog", lambda dialog: dialog.accept())

    sign_in(page, tenant.finance.email)
    page.goto("/staff/collections/")
    page.click("text=Run collections now")  # its sweep finds the two lapsed claims
    page.goto("/staff/collections/")
    card = page.locator("[data-uncertain-count]")
    expect(card).to_have_attribute("data-uncertain-count", "2")
    expect(card.locator(f"tr[data-notice='{first.pk}']")).to_contain_text(first.message_id)
    expect(card.locator(f"tr[data-notice='{second.pk}']")).to_contain_text(second.message_id)
    assert len(mail.outbox) == 2  # nothing resent by itself

    card.locator(f"tr[data-notice='{first.pk}']").get_by_role("button", name="Mark as sent").click()
    expect(page.locator(".messages")).to_contain_text("marked as sent")
    page.locator(f"tr[data-notice='{second.pk}']").get_by_role("button", name="Send again").click()
    expect(page.locator(".messages")).to_contain_text("sent again")
    expect(page.locator("[data-uncertain-count]")).to_have_count(0)
    assert len(mail.outbox) == 3
    second.refresh_from_db()
    assert mail.outbox[2].extra_headers["Message-ID"] == second.message_id != first.message_id
    assert set(Notice.objects.values_list("status", flat=True)) == {"sent"}
