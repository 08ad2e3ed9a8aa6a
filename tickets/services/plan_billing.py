"""Support plans on the month's invoices: the monthly fee, and hours or incidents beyond the allowance.

Run by `support_charges_bill` (the monthly support billing job and `bill_support --period`), after
invoice generation, so the lines go on the customer's draft of the month through billing's
`invoice_draft_lines_append`; billing itself knows nothing of plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import formats, translation
from django.utils.translation import gettext as _

from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services import LineInput, invoice_draft_create, period_bounds
from billing.invoicing.services.support_charges import invoice_draft_lines_append
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from tickets.models import CustomerSupportPlan, PlanCharge, SupportPlan, Ticket, TimeEntry
from tickets.services.drafts import draft_for, tax_rate_for
from tickets.services.plans import month_bounds

HOUR = Decimal("0.01")  # hours are billed to the hundredth


@dataclass
class PlanBillingResult:
    lines: int = 0
    invoices: list[Invoice] = field(default_factory=list)
    skipped_other_currency: int = 0


def plan_customers(partner: Partner) -> tuple[SupportPlan | None, dict[int, SupportPlan]]:
    """The partner's default plan and the customers with a plan of their own."""
    default = SupportPlan.objects.filter(partner=partner, is_default=True).first()
    own = {
        a.customer_id: a.plan
        for a in CustomerSupportPlan.objects.filter(partner=partner).select_related("plan").order_by("customer_id")
    }
    return default, own


def _charges_plan(plan: SupportPlan) -> bool:
    return plan.price_model == SupportPlan.PriceModel.MONTHLY or bool(plan.hourly_rate or plan.incident_price)


def _due(plan: SupportPlan, minutes: int, incidents: int) -> list[tuple[str, Decimal, Decimal]]:
    """(kind, quantity, unit price) the plan charges for a month of this usage."""
    due: list[tuple[str, Decimal, Decimal]] = []
    if plan.price_model == SupportPlan.PriceModel.MONTHLY and plan.monthly_fee:
        due.append((PlanCharge.Kind.FEE, Decimal(1), plan.monthly_fee))
    hours_over = (Decimal(minutes) / Decimal(60) - plan.included_hours).quantize(HOUR)
    if plan.hourly_rate and hours_over > 0:
        due.append((PlanCharge.Kind.HOURS, hours_over, plan.hourly_rate))
    if plan.incident_price and incidents > plan.included_incidents:
        due.append((PlanCharge.Kind.INCIDENTS, Decimal(incidents - plan.included_incidents), plan.incident_price))
    return due


@transaction.atomic
def plan_charges_bill(*, partner: Partner, period: str, actor: User | None) -> PlanBillingResult:
    """Bill each customer's plan for `period`: the monthly fee, hours beyond the included hours at the
    plan's hourly rate, incidents (tickets resolved in the month) beyond the included ones at its price.

    Each (customer, period, kind) is billed once (`PlanCharge`, unique): a second run adds nothing;
    deleting the draft it went on makes it billable again. Charges in another currency than the
    customer's draft are skipped. Usage is read in two grouped queries, not one per customer.
    """
    result = PlanBillingResult()
    first, last = period_bounds(period)
    default, own = plan_customers(partner)
    charging = {pk: plan for pk, plan in own.items() if _charges_plan(plan)}
    customers = Customer.objects.filter(partner=partner)
    if default is None or not _charges_plan(default):
        customers = customers.filter(pk__in=list(charging))
    else:
        customers = customers.exclude(pk__in=[pk for pk in own if pk not in charging])
    customers = customers.order_by("pk")
    start, end = month_bounds(partner, first, last)
    minutes = dict(
        TimeEntry.objects.filter(partner=partner, billable=True, worked_on__gte=first, worked_on__lte=last)
        .order_by()
        .values("ticket__customer_id")
        .annotate(m=Sum("minutes"))
        .values_list("ticket__customer_id", "m")
    )
    incidents = dict(
        Ticket.objects.filter(
            partner=partner, resolved_at__gte=start, resolved_at__lt=end,
            status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED],
        )
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )  # fmt: skip
    for customer in customers.iterator(chunk_size=500):
        plan = charging.get(customer.pk, default)
        assert plan is not None  # noqa: S101 - customers are narrowed to those with a charging plan
        pending = []
        for kind, quantity, unit_price in _due(plan, minutes.get(customer.pk, 0), incidents.get(customer.pk, 0)):
            charge, _created = PlanCharge.objects.get_or_create(
                customer=customer, period=period, kind=kind,
                defaults={"partner": partner, "plan": plan, "quantity": quantity, "unit_price": unit_price},
            )  # fmt: skip
            charge = PlanCharge.objects.select_for_update().get(pk=charge.pk)
            if charge.invoice_id is not None:
                continue  # billed before
            charge.plan, charge.quantity, charge.unit_price = plan, quantity, unit_price
            pending.append(charge)
        if pending:
            _bill(partner, customer, plan, period, pending, actor, result)
    if result.lines or result.skipped_other_currency:
        audit_record(
            partner=partner, actor=actor, action="support.plan_charges_billed", target=partner,
            data={"period": period, "lines": result.lines, "invoices": [i.pk for i in result.invoices],
                  "skipped_other_currency": result.skipped_other_currency},
        )  # fmt: skip
    return result


def _bill(
    partner: Partner,
    customer: Customer,
    plan: SupportPlan,
    period: str,
    charges: list[PlanCharge],
    actor: User | None,
    result: PlanBillingResult,
) -> None:
    first, last = period_bounds(period)
    draft = draft_for(customer, period)
    currency = draft.currency if draft is not None else customer.currency
    if currency != plan.currency:
        PlanCharge.objects.bulk_update(charges, ["plan", "quantity", "unit_price"])
        result.skipped_other_currency += len(charges)
        return
    tax_rate = tax_rate_for(customer, draft)
    with translation.override(customer.language):
        month = formats.date_format(first, "F Y")
        inputs = [
            LineInput(
                description=_description(plan, charge, month)[:300],
                quantity=charge.quantity,
                unit_price=charge.unit_price,
                tax_rate=tax_rate,
                kind=InvoiceLine.Kind.SUPPORT,
                period_start=first,
                period_end=last,
            )
            for charge in charges
        ]
        notes = _("Support, %(month)s.") % {"month": month}
    added = invoice_draft_lines_append(invoice=draft, lines=inputs, actor=actor) if draft is not None else None
    if added is None:
        invoice = invoice_draft_create(partner=partner, customer=customer, actor=actor, lines=inputs, notes=notes)
        added = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position", "pk"))
    else:
        assert draft is not None  # noqa: S101 - added is only set for a draft
        invoice = draft
    for charge, line in zip(charges, added, strict=True):
        charge.invoice, charge.invoice_line = invoice, line
    PlanCharge.objects.bulk_update(charges, ["plan", "quantity", "unit_price", "invoice", "invoice_line"])
    result.lines += len(added)
    result.invoices.append(invoice)


def _description(plan: SupportPlan, charge: PlanCharge, month: str) -> str:
    values = {"plan": plan.display_name, "month": month, "included": plan.included_hours}
    if charge.kind == PlanCharge.Kind.FEE:
        return _("Support plan %(plan)s, %(month)s") % values
    if charge.kind == PlanCharge.Kind.HOURS:
        return _("Support hours beyond the %(included)s included in %(plan)s, %(month)s") % values
    return _("Support incidents beyond the %(included)s included in %(plan)s, %(month)s") % {
        **values, "included": plan.included_incidents,
    }  # fmt: skip
