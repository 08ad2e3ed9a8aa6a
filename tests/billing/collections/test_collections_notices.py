"""The notice emails: language, amount, the invoice PDF, what happens next and when; the command."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from billing.collections.models import CollectionRun, Notice
from partner_portal import clock
from partner_portal.models import AuditEvent, EinvoiceFormat
from tests.billing.einvoicing.test_ubl import _einvoice_tenant
from tests.factories.collections import DUE, invoice_due, run_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)):
        yield


def _email(tenant, on_commit, day: int, amount: str = "1200.00", **customer: object):
    for name, value in customer.items():
        setattr(tenant.customer, name, value)
    tenant.customer.save()
    invoice = invoice_due(tenant.customer, DUE, amount)
    with on_commit():
        run_on(tenant.partner, day)
    assert len(mail.outbox) == 1
    return invoice, mail.outbox[0]


def _html(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def test_an_overdue_reminder_in_english(tenant, on_commit) -> None:
    invoice, message = _email(tenant, on_commit, 7, billing_contact="Jane Doe")
    assert message.to == [tenant.customer.billing_email]
    assert message.subject == f"Reminder: invoice {invoice.number} is overdue"
    assert message.body.startswith("Hello Jane Doe,\n")
    assert (
        f"Invoice {invoice.number} was due on Nov 30, 2026 and is 7 days overdue; 1,200.00\xa0USD is still open."
        in message.body
    )
    assert "If the invoice is still unpaid, we will remind you again on Dec 14, 2026." in message.body
    assert "The invoice is attached as a PDF." in message.body
    assert "1,200.00\xa0USD" in _html(message)
    assert "we will remind you again on Dec 14, 2026." in _html(message)
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF-")
    notice = Notice.objects.get(invoice=invoice)
    assert (notice.status, notice.recipient, notice.sent_at) == ("sent", tenant.customer.billing_email, clock.now())
    event = AuditEvent.objects.get(action="collections.notice_sent")
    assert (event.customer_id, event.data["action"], event.data["amount_due"]) == (
        tenant.customer.pk,
        "remind",
        "1200.00",
    )


def test_the_final_notice_names_the_suspension_date(tenant, on_commit) -> None:
    invoice, message = _email(tenant, on_commit, 21)
    assert message.subject == f"Final notice: invoice {invoice.number} is overdue"
    assert "This is our final notice." in message.body
    assert "If the invoice is still unpaid on Dec 30, 2026, your Microsoft subscriptions will be suspended." in (
        message.body
    )


def test_an_exempt_customer_is_not_threatened_with_suspension(tenant, on_commit) -> None:
    _invoice, message = _email(tenant, on_commit, 21, collections_exempt=True)
    assert "This is our final notice." in message.body
    assert "suspended" not in message.body


def test_the_suspension_notice_says_what_is_suspended(tenant, on_commit) -> None:
    invoice, message = _email(tenant, on_commit, 30)
    assert message.subject == f"Your Microsoft subscriptions are being suspended: invoice {invoice.number} is overdue"
    assert "we are suspending the Microsoft subscriptions billed on your overdue invoices." in message.body
    assert "They are reactivated automatically once the overdue balance is paid." in message.body
    assert "If the invoice is still unpaid" not in message.body


def test_reminders_before_and_on_the_due_date(tenant, on_commit) -> None:
    invoice = invoice_due(tenant.customer, DUE, "50.00")
    with on_commit():
        run_on(tenant.partner, -3)
    with on_commit():
        run_on(tenant.partner, 0)
    before, on_the_day = mail.outbox
    assert before.subject == f"Reminder: invoice {invoice.number} is due on Nov 30, 2026"
    assert f"A friendly reminder: invoice {invoice.number} of 50.00\xa0USD is due on Nov 30, 2026." in before.body
    assert on_the_day.subject == f"Invoice {invoice.number} is due today"
    assert "If the invoice is still unpaid, we will remind you again on Dec 7, 2026." in on_the_day.body


def test_the_overdue_total_is_stated_when_other_invoices_are_overdue_too(tenant, on_commit) -> None:
    invoice_due(tenant.customer, DUE - dt.timedelta(days=1), "30.00")
    invoice_due(tenant.customer, DUE, "70.00")
    with on_commit():
        run_on(tenant.partner, 7)
    bodies = sorted(m.body for m in mail.outbox)
    assert all("Your overdue balance in total: 100.00\xa0USD." in b for b in bodies)


def test_the_email_follows_the_customers_language(tenant, on_commit) -> None:
    invoice, message = _email(tenant, on_commit, 7, language="ru", currency="RUB")
    assert invoice.currency == "RUB"
    assert message.body.startswith("Здравствуйте!\n")
    assert "1\xa0200,00\xa0RUB" in message.body  # Russian number format
    assert "30.11.2026" in message.body  # Russian date format
    assert "14.12.2026" in message.body  # the next step's date
    assert 'lang="ru"' in _html(message)
    assert message.attachments[0][2] == "application/pdf"


def test_a_customer_without_billing_email_is_written_to_its_admins(tenant, on_commit) -> None:
    _invoice, message = _email(tenant, on_commit, 7, billing_email="")
    assert message.to == [tenant.customer_admin.email]


def test_a_customer_without_any_address_fails_visibly(tenant, on_commit) -> None:
    tenant.customer.billing_email = ""
    tenant.customer.save()
    tenant.customer_admin.membership.delete()
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    with on_commit():
        run = run_on(tenant.partner, 7)
    notice = Notice.objects.get(invoice=invoice)
    assert (notice.status, notice.error) == (
        "failed",
        "ValueError: the customer has no billing email and no customer admin",
    )
    run.refresh_from_db()
    assert run.errors_count == 1
    assert mail.outbox == []


# --- The command ------------------------------------------------------------------------------------


def test_the_command_runs_one_partner_for_a_date(tenant, other_tenant, capsys) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    invoice_due(other_tenant.customer, DUE, "100.00")
    call_command("run_collections", "--date", "2026-12-07", "--partner", tenant.partner.slug)
    out = capsys.readouterr().out
    assert out == "Alpha Partners 2026-12-07: done, 1 notices, 0 suspensions, 0 reactivations\n"
    assert Notice.objects.get().invoice_id == invoice.pk
    run = CollectionRun.objects.get()
    assert (run.partner_id, run.triggered_by, run.run_date) == (tenant.partner.pk, "command", dt.date(2026, 12, 7))


def test_the_command_without_a_date_uses_each_partners_today(tenant) -> None:
    call_command("run_collections")
    assert CollectionRun.objects.get().run_date == dt.date(2026, 12, 1)


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "07.12.2026"], "--date must be YYYY-MM-DD, got '07.12.2026'"),
    (["--partner", "nobody"], "no partner with slug 'nobody'"),
])  # fmt: skip
def test_the_command_refuses_bad_arguments(tenant, args, message) -> None:
    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
        call_command("run_collections", *args)
    assert CollectionRun.objects.count() == 0


def test_the_task_fans_out_one_run_per_partner(tenant, other_tenant) -> None:
    from billing.collections.tasks import collections_run_task

    invoice_due(tenant.customer, DUE, "100.00")
    collections_run_task.delay(run_date="2026-12-07")
    runs = CollectionRun.objects.order_by("partner_id")
    assert [(r.partner_id, r.run_date, r.status) for r in runs] == [
        (tenant.partner.pk, dt.date(2026, 12, 7), "done"),
        (other_tenant.partner.pk, dt.date(2026, 12, 7), "done"),
    ]
    assert Notice.objects.get().amount_due == Decimal("100.00")


def test_the_suspension_notice_promises_no_automatic_reactivation_when_the_policy_does_not(tenant, on_commit) -> None:
    from billing.collections.services import collection_policy_get

    policy = collection_policy_get(partner=tenant.partner)
    policy.reactivate_automatically = False
    policy.save(update_fields=["reactivate_automatically"])
    _invoice, message = _email(tenant, on_commit, 30)
    assert "reactivated automatically" not in message.body
    assert "Once the overdue balance is paid, ask us to reactivate them." in message.body
    assert "Once the overdue balance is paid, ask us to reactivate them." in _html(message)


def test_a_notice_carries_the_invoice_in_the_customers_e_invoice_format(tenant, on_commit, api_for) -> None:
    _einvoice_tenant(tenant)
    invoice, message = _email(tenant, on_commit, 7, einvoice_format=EinvoiceFormat.UBL)
    (pdf_name, pdf_content, pdf_type), (xml_name, xml_content, xml_type) = message.attachments
    assert (pdf_name, pdf_type) == (f"{invoice.number}.pdf", "application/pdf")
    assert pdf_content.startswith(b"%PDF-")
    assert (xml_name, xml_type) == (f"{invoice.number}.xml", "application/xml")
    assert xml_content == api_for(tenant.finance).get(f"/api/v1/invoices/{invoice.pk}/ubl/").content
