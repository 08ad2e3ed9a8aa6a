"""Finance issues an invoice from its page with "Email it to the customer" ticked: it is emailed with its PDF;
"Email again" sends it once more, and the invoice's history shows each send."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from billing.invoicing.models import Invoice
from partner_portal.models import AuditEvent
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.billing import draft, line

pytestmark = pytest.mark.django_db(transaction=True)

TO = "ap@alpha-customer.example"


def test_issue_emails_the_invoice_email_again_sends_it_again_and_history_shows_both(page: Page) -> None:
    tenant = make_tenant("Alpha")
    tenant.customer.billing_email = TO
    tenant.customer.save(update_fields=["billing_email"])
    invoice = draft(tenant.customer, line("Microsoft 365 E3", "10", "36.00", "20"))
    mail.outbox.clear()

    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/{invoice.pk}/")  # the draft's page: Issue leads to the issue page
    page.get_by_role("link", name="Issue invoice").click()
    expect(page.locator("h1")).to_contain_text("Issue invoice")
    tick = page.get_by_label(f"Email it to the customer with the PDF ({TO})")
    expect(tick).to_be_checked()
    page.locator("main form button[type=submit]").last.click()

    expect(page.locator(".messages")).to_contain_text("issued")  # the invoice's page, after the issue
    invoice.refresh_from_db()
    expect(page.locator(".messages")).to_contain_text(f"Invoice {invoice.number} issued and emailed to {TO}.")
    assert invoice.status == Invoice.Status.ISSUED
    [first] = mail.outbox
    assert (first.to, first.subject) == ([TO], f"Invoice {invoice.number} from {tenant.partner.name}")
    assert [name for name, _content, _mimetype in first.attachments] == [f"{invoice.number}.pdf"]
    history = page.locator("section[aria-labelledby=history-title]")
    expect(history.locator("li", has_text="Invoice emailed")).to_have_count(1)
    expect(history.locator("li", has_text="Invoice emailed")).to_contain_text(f"To {TO}")

    page.get_by_role("button", name="Email again").click()
    expect(page.locator(".messages")).to_contain_text(f"Invoice {invoice.number} is being emailed to {TO}.")
    expect(history.locator("li", has_text="Invoice emailed")).to_have_count(2)
    assert len(mail.outbox) == 2
    assert (mail.outbox[1].to, mail.outbox[1].subject) == ([TO], first.subject)
    sends = AuditEvent.objects.filter(action="invoice.sent", target_id=str(invoice.pk)).order_by("created_at")
    assert [(event.actor, event.data["again"]) for event in sends] == [(tenant.finance, False), (tenant.finance, True)]


def test_unticked_the_invoice_is_issued_and_nothing_is_emailed(page: Page) -> None:
    tenant = make_tenant("Alpha")
    tenant.customer.billing_email = TO
    tenant.customer.save(update_fields=["billing_email"])
    invoice = draft(tenant.customer, line("Microsoft 365 E3", "10", "36.00", "20"))
    mail.outbox.clear()

    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/{invoice.pk}/issue/")
    page.get_by_label(f"Email it to the customer with the PDF ({TO})").uncheck()
    page.locator("main form button[type=submit]").last.click()

    expect(page.locator(".messages")).to_contain_text("issued")  # the invoice's page, after the issue
    invoice.refresh_from_db()
    expect(page.locator(".messages")).to_have_text(f"Invoice {invoice.number} issued.")
    assert invoice.status == Invoice.Status.ISSUED
    assert mail.outbox == []
    expect(page.locator("section[aria-labelledby=history-title] li", has_text="Invoice emailed")).to_have_count(0)
