"""Support plans: what a partner sells its customers, who is on which, SLA targets and monthly usage.

A customer is on its assigned plan, else on the partner's default plan, else on none (the offering
alone applies). A ticket's SLA targets come from the most specific of: the plan's row for its severity
and product family, the plan's row for its severity, the offering's row for the severity and family,
the offering's target for the severity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from partner_portal.money import CURRENCY_CHOICES, quantize
from tickets.errors import PlanInvalid
from tickets.models import CustomerSupportPlan, SlaTarget, SupportOffering, SupportPlan, Ticket, TimeEntry

SEVERITIES = tuple(Ticket.Severity.values)
FAMILIES = tuple(Ticket.ProductFamily.values)


@dataclass(frozen=True)
class TargetInput:
    """One SLA target: a severity, a product family ("" for every family) and two business-minute counts."""

    severity: str
    product_family: str
    first_response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class PlanInput:
    """Everything the plan page and `support-plans/` set."""

    name: str
    name_ru: str = ""
    description: str = ""
    description_ru: str = ""
    price_model: str = SupportPlan.PriceModel.INCLUDED
    currency: str = "USD"
    monthly_fee: Decimal | None = None
    hourly_rate: Decimal | None = None
    incident_price: Decimal | None = None
    included_hours: int = 0
    included_incidents: int = 0
    is_default: bool = False
    targets: Sequence[TargetInput] = ()


# ---- SLA targets ----------------------------------------------------------------------------------


def targets_errors(targets: Sequence[TargetInput], *, family_required: bool, field: str) -> dict[str, list[str]]:
    """Messages for a list of targets: known severity and family, each once, minutes above zero, the
    resolution no shorter than the first response."""
    messages: list[str] = []
    seen: set[tuple[str, str]] = set()
    for t in targets:
        if t.severity not in SEVERITIES:
            messages.append(_("Unknown severity: %(value)s.") % {"value": t.severity})
            continue
        if t.product_family not in FAMILIES and not (t.product_family == "" and not family_required):
            messages.append(_("Unknown product family: %(value)s.") % {"value": t.product_family or "—"})
            continue
        key = (t.severity, t.product_family)
        if key in seen:
            messages.append(
                _("Severity %(severity)s has two targets for the same product family.") % {"severity": t.severity}
            )
        seen.add(key)
        first, resolution = t.first_response_minutes, t.resolution_minutes
        if not (isinstance(first, int) and isinstance(resolution, int) and first > 0 and resolution > 0):
            messages.append(_("An SLA target is a whole number of business minutes above zero."))
        elif resolution < first:
            messages.append(_("The resolution target cannot be shorter than the first response target."))
    return {field: messages} if messages else {}


def targets_replace(*, owner: SupportOffering | SupportPlan, partner: Partner, targets: Sequence[TargetInput]) -> None:
    """Replace the owner's target rows (inside the caller's transaction; validated by the caller)."""
    key = "offering" if isinstance(owner, SupportOffering) else "plan"
    SlaTarget.objects.filter(**{key: owner}).delete()
    SlaTarget.objects.bulk_create(
        SlaTarget(
            partner=partner, severity=t.severity, product_family=t.product_family,
            first_response_minutes=t.first_response_minutes, resolution_minutes=t.resolution_minutes, **{key: owner},
        )
        for t in targets
    )  # fmt: skip


def target_rows(owner: SupportOffering | SupportPlan | None) -> list[SlaTarget]:
    if owner is None or owner.pk is None:
        return []
    return list(owner.sla_targets.all())  # prefetched by the selectors where pages list many


def _resolve(
    offering: SupportOffering, plan_rows: list[SlaTarget], offering_rows: list[SlaTarget], severity: str, family: str
) -> tuple[int, int]:
    for rows, wanted in ((plan_rows, family), (plan_rows, ""), (offering_rows, family)):
        for row in rows:
            if row.severity == severity and row.product_family == wanted:
                return row.first_response_minutes, row.resolution_minutes
    return offering.first_response_minutes(severity), offering.resolution_minutes(severity)


def sla_targets(
    *, offering: SupportOffering, plan: SupportPlan | None, severity: str, product_family: str
) -> tuple[int, int]:
    """(first response, resolution) business minutes for a ticket: the most specific target wins."""
    return _resolve(offering, target_rows(plan), target_rows(offering), severity, product_family)


def sla_table(*, offering: SupportOffering, plan: SupportPlan | None) -> list[dict[str, Any]]:
    """Per severity: the targets for every family, and the families whose targets differ from them.
    Reads the target rows once (none when prefetched)."""
    plan_rows, offering_rows = target_rows(plan), target_rows(offering)
    table = []
    for severity, label in Ticket.Severity.choices:
        general = _resolve(offering, plan_rows, offering_rows, severity, "")
        families = []
        for family, family_label in Ticket.ProductFamily.choices:
            own = _resolve(offering, plan_rows, offering_rows, severity, family)
            if own != general:
                families.append({"family": family, "label": family_label, "first": own[0], "resolution": own[1]})
        table.append(
            {"severity": severity, "label": label, "first": general[0], "resolution": general[1], "families": families}
        )
    return table


# ---- Plans ----------------------------------------------------------------------------------------


def _money(value: Decimal | None, currency: str) -> Decimal | None:
    return quantize(value, currency) if value is not None else None


def _plan_errors(partner: Partner, data: PlanInput, plan: SupportPlan | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.name.strip():
        add("name", _("Give the plan a name."))
    elif (
        SupportPlan.objects.filter(partner=partner, name=data.name.strip())
        .exclude(pk=plan.pk if plan is not None else 0)
        .exists()
    ):
        add("name", _("Another plan already has this name."))
    if data.price_model not in SupportPlan.PriceModel.values:
        add("price_model", _("Choose a price model."))
    if data.currency not in dict(CURRENCY_CHOICES):
        add("currency", _("Choose a currency."))
    required = {
        SupportPlan.PriceModel.MONTHLY: "monthly_fee",
        SupportPlan.PriceModel.HOURLY: "hourly_rate",
        SupportPlan.PriceModel.PER_INCIDENT: "incident_price",
    }.get(data.price_model)  # type: ignore[call-overload]
    for name in ("monthly_fee", "hourly_rate", "incident_price"):
        value = getattr(data, name)
        if value is not None and value <= 0:
            add(name, _("A price is more than zero; leave it empty for none."))
        elif value is None and name == required:
            add(name, _("This price model needs this price."))
    if data.price_model == SupportPlan.PriceModel.INCLUDED and any(
        getattr(data, n) is not None for n in ("monthly_fee", "hourly_rate", "incident_price")
    ):
        add("price_model", _("A plan included for free charges nothing: leave the prices empty."))
    for name in ("included_hours", "included_incidents"):
        value = getattr(data, name)
        if not isinstance(value, int) or value < 0:
            add(name, _("Give a whole number, zero or more."))
    errors.update(targets_errors(data.targets, family_required=False, field="targets"))
    return errors


def _plan_snapshot(plan: SupportPlan) -> dict[str, Any]:
    values = {
        name: (str(v) if isinstance(v := getattr(plan, name), Decimal) else v)
        for name in (
            "name", "name_ru", "description", "description_ru", "price_model", "currency", "monthly_fee",
            "hourly_rate", "incident_price", "included_hours", "included_incidents", "is_default",
        )
    }  # fmt: skip
    values["targets"] = [str(t) for t in plan.sla_targets.order_by("severity", "product_family")]
    return values


@transaction.atomic
def support_plan_save(
    *, partner: Partner, actor: User | None, data: PlanInput, plan: SupportPlan | None = None
) -> SupportPlan:
    """Create a plan (`plan` None) or replace one, with its SLA targets. Refused as a whole with a
    message per field (PlanInvalid). Making it the default takes the flag from the former default.
    Audited with what changed."""
    if plan is not None and plan.partner_id != partner.pk:
        raise PlanInvalid(_("The plan belongs to another partner."))
    errors = _plan_errors(partner, data, plan)
    if errors:
        raise PlanInvalid(fields=errors)
    before = _plan_snapshot(plan) if plan is not None else {}
    plan = SupportPlan(partner=partner) if plan is None else SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if data.is_default:
        SupportPlan.objects.filter(partner=partner, is_default=True).exclude(pk=plan.pk).update(is_default=False)
    plan.name, plan.name_ru = data.name.strip(), data.name_ru.strip()
    plan.description, plan.description_ru = data.description.strip(), data.description_ru.strip()
    plan.price_model, plan.currency = data.price_model, data.currency
    plan.monthly_fee = _money(data.monthly_fee, data.currency)
    plan.hourly_rate = _money(data.hourly_rate, data.currency)
    plan.incident_price = _money(data.incident_price, data.currency)
    plan.included_hours, plan.included_incidents = data.included_hours, data.included_incidents
    plan.is_default = data.is_default
    plan.updated_at = clock.now()
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:  # a concurrent save took the name
        raise PlanInvalid(fields={"name": [_("Another plan already has this name.")]}) from exc
    targets_replace(owner=plan, partner=partner, targets=data.targets)
    after = _plan_snapshot(plan)
    changed = {k: after[k] for k in after if before.get(k) != after[k]}
    audit_record(
        partner=partner, actor=actor, action="support_plan.updated" if before else "support_plan.created",
        target=plan, data=changed,
    )  # fmt: skip
    return plan


@transaction.atomic
def customer_plan_assign(
    *, partner: Partner, customer: Customer, plan: SupportPlan | None, actor: User | None
) -> CustomerSupportPlan | None:
    """Put the customer on `plan`, or (None) back on the partner's default plan. Audited on the customer;
    assigning the plan it is on already changes nothing."""
    if customer.partner_id != partner.pk or (plan is not None and plan.partner_id != partner.pk):
        raise PlanInvalid(
            _("The customer and the plan must belong to the partner."), fields={"plan": [_("Choose a plan.")]}
        )
    current = CustomerSupportPlan.objects.select_for_update().filter(customer=customer).select_related("plan").first()
    if (current.plan_id if current else None) == (plan.pk if plan else None):
        return current
    before = current.plan.name if current else None
    if plan is None:
        CustomerSupportPlan.objects.filter(customer=customer).delete()
        assignment = None
    else:
        assignment, _created = CustomerSupportPlan.objects.update_or_create(
            customer=customer,
            defaults={"partner": partner, "plan": plan, "assigned_at": clock.now(), "assigned_by": actor},
        )
    audit_record(
        partner=partner, customer=customer, actor=actor, action="customer.support_plan_changed", target=customer,
        data={"plan": [before, plan.name if plan else None]},
    )  # fmt: skip
    return assignment


def customer_plan(customer: Customer) -> SupportPlan | None:
    """The plan the customer is on: its own, else the partner's default, else None."""
    assignment = CustomerSupportPlan.objects.filter(customer=customer).select_related("plan").first()
    if assignment is not None:
        return assignment.plan
    return SupportPlan.objects.filter(partner_id=customer.partner_id, is_default=True).first()


# ---- Usage ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanUsage:
    period: str
    minutes: int
    incidents: int

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / Decimal(60)).quantize(Decimal("0.01"))


def month_bounds(partner: Partner, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(partner.time_zone)
    return (
        dt.datetime.combine(first, dt.time(0), tzinfo=zone),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
    )


def plan_usage(*, customer: Customer, first: dt.date, last: dt.date) -> PlanUsage:
    """Billable time worked for the customer in the days given, and its tickets resolved in them
    (in the partner's time zone): what counts against a plan's allowance."""
    start, end = month_bounds(customer.partner, first, last)
    minutes = TimeEntry.objects.filter(
        ticket__customer=customer, billable=True, worked_on__gte=first, worked_on__lte=last
    ).aggregate(m=Sum("minutes"))["m"]
    incidents = Ticket.objects.filter(
        customer=customer, resolved_at__gte=start, resolved_at__lt=end,
        status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED],
    ).count()  # fmt: skip
    return PlanUsage(period=f"{first:%Y-%m}", minutes=int(minutes or 0), incidents=incidents)


def plan_usage_this_month(*, customer: Customer) -> PlanUsage:
    """What the customer used of its plan from the first of this month to today (partner's time zone)."""
    today = clock.today(customer.partner.time_zone)
    return plan_usage(customer=customer, first=today.replace(day=1), last=today)
