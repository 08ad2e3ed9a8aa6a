"""How a support offering reads to people: hours per weekday, targets as durations, the price.

Used by pages, the customer home card and the emails, so the offering reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import formats
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partner_portal import clock
from tickets.models import WEEKDAYS, SupportOffering, SupportPlan
from tickets.services.plans import PlanUsage, sla_table


def duration_label(minutes: int | None) -> str:
    """Business minutes as people say them: "45 minutes", "4 hours", "2 hours 30 minutes"."""
    if minutes is None:
        return ""
    hours, rest = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if rest or not hours:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", rest) % {"count": rest})
    return " ".join(parts)


@dataclass(frozen=True)
class DayHours:
    name: str
    periods: str  # "09:00–18:00" or "closed"


@dataclass(frozen=True)
class Target:
    severity: str
    label: str
    first_response: str
    resolution: str
    families: list[tuple[str, str, str]] = field(default_factory=list)  # (family, first response, resolution)


def offering_hours(offering: SupportOffering) -> list[DayHours]:
    rows = []
    for index, day in enumerate(WEEKDAYS):
        periods = offering.hours.get(day) or []
        text = ", ".join(f"{start}–{end}" for start, end in periods) if periods else _("closed")
        rows.append(DayHours(name=str(WEEKDAY_NAMES[index]), periods=text))
    return rows


def offering_targets(offering: SupportOffering, plan: SupportPlan | None = None) -> list[Target]:
    """The targets per severity for every product family, and the families whose targets differ: the
    plan's where it has them, else the offering's."""
    return [
        Target(
            severity=row["severity"],
            label=str(row["label"]),
            first_response=duration_label(row["first"]),
            resolution=duration_label(row["resolution"]),
            families=[
                (str(f["label"]), duration_label(f["first"]), duration_label(f["resolution"])) for f in row["families"]
            ],
        )
        for row in sla_table(offering=offering, plan=plan)
    ]


def offering_price(offering: SupportOffering) -> str:
    """What support costs, in one sentence."""
    amount = (
        f"{formats.number_format(offering.price_amount, 2, use_l10n=True)} {offering.currency}"
        if offering.price_amount is not None
        else ""
    )
    model = offering.price_model
    if model == SupportOffering.PriceModel.PER_INCIDENT:
        return _("%(amount)s per incident, billed on your next invoice.") % {"amount": amount}
    if model == SupportOffering.PriceModel.HOURLY:
        return _("%(amount)s per hour of billable work, billed on your next invoice.") % {"amount": amount}
    if model == SupportOffering.PriceModel.MONTHLY_PLAN:
        return _("%(amount)s per month for the support plan.") % {"amount": amount}
    return _("Included in the price of your subscriptions: no extra charge.")


def offering_contacts(offering: SupportOffering) -> list[tuple[str, str]]:
    """(how, where) pairs: the ways customers reach support."""
    contacts = []
    if offering.contact_portal:
        contacts.append((_("Portal"), _("open a ticket on your support page")))
    if offering.contact_email:
        contacts.append((_("Email"), offering.contact_email))
    if offering.contact_phone:
        contacts.append((_("Phone"), offering.contact_phone))
    return contacts


def offering_context(offering: SupportOffering, plan: SupportPlan | None = None) -> dict[str, object]:
    """Everything a page or an email shows of the offering. Call inside the reader's language."""
    # Holidays still to come in the desk's time zone: past ones mean nothing to a customer.
    today = clock.today(offering.time_zone)
    holidays = list(offering.holidays.filter(date__gte=today).order_by("date")) if offering.pk else []
    return {
        "offering": offering,
        "offering_hours": offering_hours(offering),
        "offering_targets": offering_targets(offering, plan),
        "offering_price": plan_price(plan) if plan is not None else offering_price(offering),
        "offering_contacts": offering_contacts(offering),
        "offering_holidays": holidays,
    }


def _amount(value: Decimal, currency: str) -> str:
    return f"{formats.number_format(value, 2, use_l10n=True)} {currency}"


def plan_price(plan: SupportPlan) -> str:
    """What the plan costs, in one sentence (the model's price and what lies beyond the allowance)."""
    parts = []
    if plan.price_model == SupportPlan.PriceModel.MONTHLY and plan.monthly_fee is not None:
        parts.append(_("%(amount)s per month.") % {"amount": _amount(plan.monthly_fee, plan.currency)})
    elif plan.price_model == SupportPlan.PriceModel.INCLUDED:
        parts.append(_("Included: no charge for support."))
    if plan.hourly_rate is not None:
        parts.append(_("%(amount)s per hour beyond the included hours.") % {
            "amount": _amount(plan.hourly_rate, plan.currency)})  # fmt: skip
    if plan.incident_price is not None:
        parts.append(_("%(amount)s per incident beyond the included incidents.") % {
            "amount": _amount(plan.incident_price, plan.currency)})  # fmt: skip
    return " ".join(parts)


def plan_included(plan: SupportPlan) -> list[str]:
    """What the plan includes each month, as short sentences."""
    rows = []
    if plan.included_hours:
        rows.append(ngettext("%(count)d hour of support per month", "%(count)d hours of support per month",
                             plan.included_hours) % {"count": plan.included_hours})  # fmt: skip
    if plan.included_incidents:
        rows.append(ngettext("%(count)d incident per month", "%(count)d incidents per month",
                             plan.included_incidents) % {"count": plan.included_incidents})  # fmt: skip
    return rows


def plan_context(offering: SupportOffering, plan: SupportPlan | None, usage: PlanUsage | None) -> dict[str, object]:
    """What a page shows of a customer's plan: price, what is included, used this month, SLA targets."""
    table = sla_table(offering=offering, plan=plan)
    for row in table:
        row["first_label"], row["resolution_label"] = duration_label(row["first"]), duration_label(row["resolution"])
        for family in row["families"]:
            family["first_label"] = duration_label(family["first"])
            family["resolution_label"] = duration_label(family["resolution"])
    return {
        "plan": plan,
        "plan_price": plan_price(plan) if plan is not None else "",
        "plan_included": plan_included(plan) if plan is not None else [],
        "plan_usage": usage,
        "plan_targets": table,
    }
