"""Support charges flow into the customer's next invoice: hourly time and per-incident prices, billed once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services import invoice_draft_delete, invoice_draft_update, invoice_issue
from partner_portal import clock
from tests.factories.billing import draft, line
from tests.factories.tickets import offering
from tests.factories.tickets import ticket as _ticket
from tickets.errors import TicketInvalid
from tickets.models import IncidentCharge, Ticket, TimeEntry
from tickets.services import support_charges_bill, ticket_status_change, time_entry_add

pytestmark = pytest.mark.django_db
NOV = dt.date(2026, 11, 20)


def ticket(customer, **fields):  # type: ignore[no-untyped-def]
    """A ticket opened on 1 November, before the time recorded on it (never before its opening)."""
    with clock.frozen(dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)):
        return _ticket(customer, **fields)


def hourly(tenant, rate: str = "120.00") -> None:
    offering(tenant.partner, price_model="hourly", price_amount=rate, currency="USD")


def test_billable_time_goes_on_the_period_draft_once(tenant) -> None:
    hourly(tenant)
    period_draft = Invoice.objects.get(pk=draft(tenant.customer, line("Microsoft 365 E3", "10", "36.00", "20.00")).pk)
    Invoice.objects.filter(pk=period_draft.pk).update(period="2026-11")
    t = ticket(tenant.customer, subject="Mailbox migration")
    first = time_entry_add(ticket=t, agent=tenant.agent, minutes=90, billable=True, worked_on=NOV)
    second = time_entry_add(ticket=t, agent=tenant.admin, minutes=30, billable=True, worked_on=NOV)
    free = time_entry_add(ticket=t, agent=tenant.agent, minutes=45, billable=False, worked_on=NOV)
    december = time_entry_add(ticket=t, agent=tenant.agent, minutes=60, billable=True, worked_on=dt.date(2026, 12, 1))

    result = support_charges_bill(partner=tenant.partner, period="2026-11", actor=tenant.finance)

    assert (result.lines, result.time_entries, [i.pk for i in result.invoices]) == (1, 2, [period_draft.pk])
    support = InvoiceLine.objects.get(invoice=period_draft, kind=InvoiceLine.Kind.SUPPORT)
    assert support.description == f"Support {t.reference}: Mailbox migration (2 h)"
    assert (support.quantity, support.unit_price, support.amount) == (Decimal("2"), Decimal("120"), Decimal("240.00"))
    assert support.tax_rate == Decimal("20.00")  # taxed like the rest of the invoice
    assert support.tax_amount == Decimal("48.00")
    period_draft.refresh_from_db()
    assert (period_draft.subtotal, period_draft.tax_total, period_draft.total) == (
        Decimal("600.00"), Decimal("120.00"), Decimal("720.00"),
    )  # fmt: skip
    for entry in (first, second):
        entry.refresh_from_db()
        assert (entry.billed_invoice_id, entry.invoice_line_id) == (period_draft.pk, support.pk)
        assert entry.billed_at is not None
    free.refresh_from_db()
    december.refresh_from_db()
    assert (free.billed_invoice_id, december.billed_invoice_id) == (None, None)  # recorded, not billed

    again = support_charges_bill(partner=tenant.partner, period="2026-11", actor=tenant.finance)
    assert (again.lines, again.invoices) == (0, [])
    assert InvoiceLine.objects.filter(kind=InvoiceLine.Kind.SUPPORT).count() == 1


def test_without_a_draft_a_new_one_is_made_and_reused(tenant) -> None:
    hourly(tenant, "100.00")
    t = ticket(tenant.customer)
    time_entry_add(ticket=t, agent=tenant.agent, minutes=50, billable=True, worked_on=NOV)
    result = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None)
    invoice = result.invoices[0]
    assert (invoice.status, invoice.period, invoice.customer) == (Invoice.Status.DRAFT, "", tenant.customer)
    assert invoice.notes == "Support, November 2026."
    assert invoice.total == Decimal("83.33")  # 0.8333 h × 100.00
    late = time_entry_add(ticket=t, agent=tenant.agent, minutes=60, billable=True, worked_on=NOV)
    second = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None)
    assert [i.pk for i in second.invoices] == [invoice.pk]  # the same draft, not a second one
    late.refresh_from_db()
    assert late.billed_invoice_id == invoice.pk


def test_issued_time_stays_billed_and_deleting_the_draft_makes_it_billable_again(tenant) -> None:
    hourly(tenant)
    t = ticket(tenant.customer)
    entry = time_entry_add(ticket=t, agent=tenant.agent, minutes=60, billable=True, worked_on=NOV)
    invoice = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).invoices[0]
    invoice_draft_delete(invoice=invoice, actor=None)
    entry.refresh_from_db()
    assert entry.billed_invoice_id is None
    rebilled = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).invoices[0]
    invoice_issue(invoice=rebilled, actor=None)
    assert support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).lines == 0
    entry.refresh_from_db()
    assert entry.billed_invoice_id == rebilled.pk


def test_rewriting_the_draft_does_not_bill_the_time_twice(tenant) -> None:
    hourly(tenant)
    t = ticket(tenant.customer)
    entry = time_entry_add(ticket=t, agent=tenant.agent, minutes=60, billable=True, worked_on=NOV)
    invoice = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).invoices[0]
    invoice_draft_update(invoice=invoice, actor=None, notes="Edited by finance", lines=[line("Support", "1", "120.00")])
    assert support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).lines == 0
    entry.refresh_from_db()
    assert entry.billed_invoice_id == invoice.pk  # still shows the invoice it went on


def test_per_incident_price_per_ticket_resolved_in_the_period(tenant, other_tenant) -> None:
    offering(tenant.partner, price_model="per_incident", price_amount="75.00", currency="USD")
    resolved = ticket(tenant.customer, subject="Licence not assigned")
    still_open = ticket(tenant.customer)
    december = ticket(tenant.customer)
    with clock.frozen(dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)):
        ticket_status_change(ticket=resolved, status=Ticket.Status.RESOLVED, actor=tenant.agent)
    with clock.frozen(dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)):
        ticket_status_change(ticket=december, status=Ticket.Status.RESOLVED, actor=tenant.agent)
    time_entry_add(
        ticket=resolved, agent=tenant.agent, minutes=60, billable=True, worked_on=NOV
    )  # not hourly: unbilled

    result = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None)

    assert (result.lines, result.incidents, result.time_entries) == (1, 1, 0)
    support = InvoiceLine.objects.get(kind=InvoiceLine.Kind.SUPPORT)
    assert support.description == f"Support incident {resolved.reference}: Licence not assigned"
    assert (support.quantity, support.amount) == (Decimal("1"), Decimal("75.00"))
    charge = IncidentCharge.objects.get(ticket=resolved)
    assert (charge.invoice_id, charge.invoice_line_id, charge.period) == (support.invoice_id, support.pk, "2026-11")
    assert not IncidentCharge.objects.filter(ticket__in=[still_open, december]).exists()
    # Reopened and resolved again within the month: still one charge.
    ticket_status_change(ticket=resolved, status=Ticket.Status.OPEN, actor=tenant.agent)
    with clock.frozen(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)):
        ticket_status_change(ticket=resolved, status=Ticket.Status.RESOLVED, actor=tenant.agent)
    assert support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).lines == 0
    assert support_charges_bill(partner=other_tenant.partner, period="2026-11", actor=None).lines == 0


def test_included_support_bills_nothing(tenant) -> None:
    t = ticket(tenant.customer)
    time_entry_add(ticket=t, agent=tenant.agent, minutes=60, billable=True, worked_on=NOV)
    assert support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).lines == 0
    assert Invoice.objects.count() == 0


def test_other_currency_is_skipped(tenant) -> None:
    offering(tenant.partner, price_model="hourly", price_amount="100.00", currency="EUR")
    t = ticket(tenant.customer)  # the customer is billed in USD
    entry = time_entry_add(ticket=t, agent=tenant.agent, minutes=60, billable=True, worked_on=NOV)
    result = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None)
    assert (result.lines, result.skipped_other_currency) == (0, 1)
    entry.refresh_from_db()
    assert entry.billed_invoice_id is None


def test_time_entry_rules(tenant, other_tenant) -> None:
    t = ticket(tenant.customer)
    with pytest.raises(TicketInvalid):
        time_entry_add(ticket=t, agent=tenant.customer_admin, minutes=10, billable=True)
    with pytest.raises(TicketInvalid):
        time_entry_add(ticket=t, agent=other_tenant.agent, minutes=10, billable=True)
    with pytest.raises(TicketInvalid):
        time_entry_add(ticket=t, agent=tenant.agent, minutes=0, billable=True)
    with clock.frozen(dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)), pytest.raises(TicketInvalid):
        time_entry_add(ticket=t, agent=tenant.agent, minutes=10, billable=True, worked_on=dt.date(2026, 12, 2))
    assert TimeEntry.objects.count() == 0


def test_bill_support_command(tenant) -> None:
    hourly(tenant)
    t = ticket(tenant.customer)
    time_entry_add(ticket=t, agent=tenant.agent, minutes=30, billable=True, worked_on=NOV)
    out = StringIO()
    call_command("bill_support", "--period", "2026-11", "--partner", tenant.partner.slug, stdout=out)
    assert out.getvalue() == "Alpha Partners 2026-11: 1 support lines on 1 invoices (1 time entries, 0 incidents)\n"
    out = StringIO()
    call_command("bill_support", "--period", "2026-11", "--partner", tenant.partner.slug, stdout=out)
    assert out.getvalue() == "Alpha Partners 2026-11: 0 support lines on 0 invoices (0 time entries, 0 incidents)\n"


def test_beat_task_bills_each_partner(tenant) -> None:
    from tickets.tasks import support_charges_bill_task

    hourly(tenant)
    t = ticket(tenant.customer)
    time_entry_add(ticket=t, agent=tenant.agent, minutes=30, billable=True, worked_on=NOV)
    with clock.frozen(dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)):
        assert support_charges_bill_task.delay().get() == {"lines": 1, "invoices": 1}
        assert support_charges_bill_task.delay().get() == {"lines": 0, "invoices": 0}
