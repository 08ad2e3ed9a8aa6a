"""Time spent on tickets, and support charges handed to billing: hourly time and per-incident prices."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import formats, translation
from django.utils.translation import gettext as _

from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services import LineInput, invoice_draft_create, period_bounds
from billing.invoicing.services.support_charges import invoice_draft_lines_append
from billing.invoicing.vat import UnitCode
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.jobs import for_each_partner
from partner_portal.models import Customer, Partner, User
from tickets.errors import TicketInvalid
from tickets.models import IncidentCharge, SupportOffering, Ticket, TimeEntry
from tickets.services.drafts import draft_for, tax_rate_for
from tickets.services.offering import support_offering_get
from tickets.services.plan_billing import plan_charges_bill, plan_customers
from tickets.services.tickets import is_staff_of

SIXTY = Decimal(60)
MAX_MINUTES = 24 * 60


@transaction.atomic
def time_entry_add(
    *,
    ticket: Ticket,
    agent: User,
    minutes: int,
    billable: bool,
    worked_on: dt.date | None = None,
    note: str = "",
) -> TimeEntry:
    """Record time an agent spent on a ticket (billable or not). Billable time is billed once by
    `support_charges_bill` when the offering charges by the hour."""
    if not is_staff_of(agent, ticket.partner_id):
        raise TicketInvalid(_("Only the partner's staff record time on tickets."))
    if not isinstance(minutes, int) or not 0 < minutes <= MAX_MINUTES:
        raise TicketInvalid(_("Time is recorded in whole minutes, from 1 to 1440 per entry."))
    today = clock.today(ticket.partner.time_zone)
    worked_on = worked_on or today
    if worked_on > today:
        raise TicketInvalid(_("Time cannot be recorded for a day that has not come yet."))
    opened_on = ticket.created_at.astimezone(ZoneInfo(ticket.partner.time_zone)).date()
    if worked_on < opened_on:
        message = _("Time cannot be recorded for a day before the ticket was opened (%(date)s).") % {
            "date": formats.date_format(opened_on)
        }
        raise TicketInvalid(message, fields={"worked_on": [message]})
    entry = TimeEntry.objects.create(
        partner_id=ticket.partner_id, ticket=ticket, agent=agent, minutes=minutes, billable=billable,
        worked_on=worked_on, note=note.strip()[:300],
    )  # fmt: skip
    audit_record(
        partner=ticket.partner, customer=ticket.customer, actor=agent, action="ticket.time_recorded", target=ticket,
        data={"minutes": minutes, "billable": billable, "worked_on": worked_on.isoformat(), "entry": entry.pk},
    )  # fmt: skip
    return entry


@dataclass
class SupportBillingResult:
    period: str
    lines: int = 0
    time_entries: int = 0
    incidents: int = 0
    invoices: list[Invoice] = field(default_factory=list)
    skipped_other_currency: int = 0


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / SIXTY).quantize(Decimal("0.0001"))


@transaction.atomic
def support_charges_bill(*, partner: Partner, period: str, actor: User | None) -> SupportBillingResult:
    """Put the period's support charges on each customer's draft invoice (or a new draft). Idempotent.

    - hourly price model: billable time not billed yet, worked on or before the period's last day,
      one SUPPORT line per ticket (hours × rate);
    - per-incident price model: one SUPPORT line per ticket resolved in the period (partner's time zone).

    Each time entry and each incident is billed once and records the invoice it went on; deleting that
    draft makes it billable again. Charges in another currency than the customer's draft are skipped.
    Concurrent runs queue on the row locks, and the second one finds nothing left to bill.
    """
    first, last = period_bounds(period)
    offering = support_offering_get(partner)
    result = SupportBillingResult(period=period)
    plans = plan_charges_bill(partner=partner, period=period, actor=actor)
    result.lines, result.invoices = plans.lines, list(plans.invoices)
    result.skipped_other_currency = plans.skipped_other_currency
    default_plan, own_plans = plan_customers(partner)
    price = offering.price_amount
    if (
        price is None
        or default_plan is not None  # every customer is on a plan: the plans price support
        or offering.price_model not in (SupportOffering.PriceModel.HOURLY, SupportOffering.PriceModel.PER_INCIDENT)
    ):
        return result
    charges: dict[int, list[tuple[Ticket, int, list[TimeEntry]]]] = defaultdict(list)
    customers: dict[int, Customer] = {}
    if offering.price_model == SupportOffering.PriceModel.HOURLY:
        entries = list(
            TimeEntry.objects.for_partner(partner)
            .unbilled()
            .filter(worked_on__lte=last)
            .exclude(ticket__customer_id__in=list(own_plans))
            .select_for_update(of=("self",))
            .select_related("ticket__customer")
            .order_by("ticket_id", "worked_on", "pk")
        )
        by_ticket: dict[int, list[TimeEntry]] = defaultdict(list)
        for entry in entries:
            by_ticket[entry.ticket_id].append(entry)
        for ticket_entries in by_ticket.values():
            ticket = ticket_entries[0].ticket
            customers[ticket.customer_id] = ticket.customer
            charges[ticket.customer_id].append((ticket, sum(e.minutes for e in ticket_entries), ticket_entries))
    else:
        zone = ZoneInfo(partner.time_zone)
        start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        resolved = (
            Ticket.objects.for_partner(partner)
            .filter(
                resolved_at__gte=start, resolved_at__lt=end, status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED]
            )
            .exclude(customer_id__in=list(own_plans))
            .select_related("customer")
            .order_by("customer_id", "number")
        )
        for ticket in resolved:
            charge, _created = IncidentCharge.objects.get_or_create(
                ticket=ticket, defaults={"partner": partner, "amount": price, "period": period}
            )
            charge = IncidentCharge.objects.select_for_update().get(pk=charge.pk)
            if charge.invoice_id is not None:
                continue  # billed before
            customers[ticket.customer_id] = ticket.customer
            charges[ticket.customer_id].append((ticket, 0, []))
    now = clock.now()
    for customer_id, items in charges.items():
        customer = customers[customer_id]
        draft = draft_for(customer, period)
        currency = draft.currency if draft is not None else customer.currency
        if currency != offering.currency:
            result.skipped_other_currency += len(items)
            continue
        tax_rate = tax_rate_for(customer, draft)
        with translation.override(customer.language):
            inputs = [_line(offering, ticket, minutes, tax_rate, first, last) for ticket, minutes, _e in items]
            notes = _("Support, %(month)s.") % {"month": formats.date_format(first, "F Y")}
        added = invoice_draft_lines_append(invoice=draft, lines=inputs, actor=actor) if draft is not None else None
        if added is None:
            invoice = invoice_draft_create(partner=partner, customer=customer, actor=actor, lines=inputs, notes=notes)
            added = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position", "pk"))
        else:
            assert draft is not None  # noqa: S101 - added is only set for a draft
            invoice = draft
        for (ticket, _minutes, ticket_entries), invoice_line in zip(items, added, strict=True):
            if ticket_entries:
                for entry in ticket_entries:
                    entry.invoice_line, entry.billed_invoice, entry.billed_at = invoice_line, invoice, now
                TimeEntry.objects.bulk_update(ticket_entries, ["invoice_line", "billed_invoice", "billed_at"])
                result.time_entries += len(ticket_entries)
            else:
                IncidentCharge.objects.filter(ticket=ticket).update(
                    invoice=invoice, invoice_line=invoice_line, period=period, amount=price
                )
                result.incidents += 1
        result.lines += len(added)
        result.invoices.append(invoice)
    if result.lines or result.skipped_other_currency:
        audit_record(
            partner=partner, actor=actor, action="support.charges_billed", target=offering,
            data={"period": period, "lines": result.lines, "time_entries": result.time_entries,
                  "incidents": result.incidents, "invoices": [i.pk for i in result.invoices],
                  "skipped_other_currency": result.skipped_other_currency},
        )  # fmt: skip
    return result


def _line(
    offering: SupportOffering, ticket: Ticket, minutes: int, tax_rate: Decimal, first: dt.date, last: dt.date
) -> LineInput:
    assert offering.price_amount is not None  # noqa: S101 - checked by the caller
    if minutes:
        hours = _hours(minutes)
        description = _("Support %(reference)s: %(subject)s (%(hours)s h)") % {
            "reference": ticket.reference, "subject": ticket.subject[:150], "hours": formats.localize(hours.normalize()),
        }  # fmt: skip
        quantity = hours
    else:
        description = _("Support incident %(reference)s: %(subject)s") % {
            "reference": ticket.reference, "subject": ticket.subject[:150],
        }  # fmt: skip
        quantity = Decimal(1)
    return LineInput(
        description=description[:300], quantity=quantity, unit_price=offering.price_amount, tax_rate=tax_rate,
        kind=InvoiceLine.Kind.SUPPORT, period_start=first, period_end=last,
        unit_code=UnitCode.HOUR if minutes else UnitCode.ONE,
    )  # fmt: skip


def support_charges_bill_all(
    *, period: str | None = None, partner_slug: str | None = None
) -> list[tuple[Partner, SupportBillingResult]]:
    """Bill every partner's support (or the one named) for `period`, by default each partner's previous
    month in its own time zone. Idempotent like `support_charges_bill`; the task and the command call this."""
    from billing.invoicing.services import previous_period

    return for_each_partner(
        lambda p: support_charges_bill(
            partner=p, period=period or previous_period(clock.today(p.time_zone)), actor=None
        ),
        slug=partner_slug,
    )
