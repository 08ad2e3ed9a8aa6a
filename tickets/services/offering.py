"""The partner's support offering: what support customers get, when, how to reach it, what it costs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User, validate_time_zone
from partner_portal.money import CURRENCY_CHOICES, quantize
from tickets.errors import OfferingInvalid
from tickets.models import WEEKDAYS, SupportHoliday, SupportOffering, validate_hours
from tickets.services.plans import TargetInput, targets_errors, targets_replace

TARGET_FIELDS = (
    "first_response_minutes_a",
    "first_response_minutes_b",
    "first_response_minutes_c",
    "resolution_minutes_a",
    "resolution_minutes_b",
    "resolution_minutes_c",
)


@dataclass(frozen=True)
class HolidayInput:
    date: dt.date
    name: str


@dataclass(frozen=True)
class OfferingInput:
    """Everything the support offering page and `PUT support-offering/` set."""

    time_zone: str
    hours: dict[str, list[list[str]]]
    contact_portal: bool = True
    contact_email: str = ""
    contact_phone: str = ""
    contact_notes: str = ""
    contact_notes_ru: str = ""  # shown to Russian readers when set
    price_model: str = SupportOffering.PriceModel.INCLUDED
    price_amount: Decimal | None = None
    currency: str = "USD"
    first_response_minutes_a: int = 60
    first_response_minutes_b: int = 240
    first_response_minutes_c: int = 480
    resolution_minutes_a: int = 480
    resolution_minutes_b: int = 1440
    resolution_minutes_c: int = 2880
    holidays: Sequence[HolidayInput] | None = field(default=None)  # None: keep the holidays as they are
    # Targets of one severity for one product family, over the severity's above; None: keep them.
    sla_overrides: Sequence[TargetInput] | None = field(default=None)


def support_offering_get(partner: Partner) -> SupportOffering:
    """The partner's offering; a default one (weekdays 9-18 in the partner's time zone) on first use."""
    offering = SupportOffering.objects.filter(partner=partner).first()
    if offering is not None:
        return offering
    try:
        with transaction.atomic():
            return SupportOffering.objects.create(
                partner=partner,
                time_zone=partner.time_zone,
                currency=partner.default_currency,
                contact_email=partner.support_email,
                contact_phone=partner.support_phone,
            )
    except IntegrityError:  # created by a concurrent request meanwhile
        return SupportOffering.objects.get(partner=partner)


def _errors(data: OfferingInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    try:
        validate_time_zone(data.time_zone)
    except ValidationError:
        add("time_zone", _("%(value)s is not a known time zone, e.g. Europe/London.") % {"value": data.time_zone})
    try:
        validate_hours(data.hours)
    except ValidationError as exc:
        for message in exc.messages:
            add("hours", message)
    else:
        if not any(data.hours.get(day) for day in WEEKDAYS):
            add("hours", _("Give at least one period of service in the week."))
    if data.contact_email:
        from django.core.validators import validate_email

        try:
            validate_email(data.contact_email)
        except ValidationError:
            add("contact_email", _("Enter a valid email address."))
    if not (data.contact_portal or data.contact_email or data.contact_phone):
        add("contact_portal", _("Customers need at least one way to reach support: portal, email or phone."))
    if data.price_model not in SupportOffering.PriceModel.values:
        add("price_model", _("Choose a price model."))
    elif data.price_model == SupportOffering.PriceModel.INCLUDED:
        if data.price_amount not in (None, Decimal(0)):
            add("price_amount", _("Support included in the price has no price of its own: leave it empty."))
    elif data.price_amount is None or data.price_amount <= 0:
        add("price_amount", _("Give the price this price model charges (more than zero)."))
    if data.currency not in dict(CURRENCY_CHOICES):
        add("currency", _("Choose a currency."))
    for name in TARGET_FIELDS:
        value = getattr(data, name)
        if not isinstance(value, int) or value <= 0:
            add(name, _("An SLA target is a whole number of business minutes above zero."))
    for severity in ("a", "b", "c"):
        first, resolution = (
            getattr(data, f"first_response_minutes_{severity}"),
            getattr(data, f"resolution_minutes_{severity}"),
        )
        if isinstance(first, int) and isinstance(resolution, int) and 0 < resolution < first:
            add(
                f"resolution_minutes_{severity}",
                _("The resolution target cannot be shorter than the first response target."),
            )
    if data.sla_overrides is not None:
        errors.update(targets_errors(data.sla_overrides, family_required=True, field="sla_overrides"))
    if data.holidays is not None:
        dates = [h.date for h in data.holidays]
        if len(dates) != len(set(dates)):
            add("holidays", _("Each holiday date can appear only once."))
        if any(not h.name.strip() for h in data.holidays):
            add("holidays", _("Give every holiday a name."))
    return errors


@transaction.atomic
def support_offering_update(*, partner: Partner, actor: User | None, data: OfferingInput) -> SupportOffering:
    """Replace the partner's offering (and its holidays when given). Refused as a whole with a message
    per field (OfferingInvalid) when anything is invalid; audited with what changed."""
    errors = _errors(data)
    if errors:
        raise OfferingInvalid(fields=errors)
    offering = SupportOffering.objects.select_for_update().get(pk=support_offering_get(partner).pk)
    before = _snapshot(offering)
    offering.time_zone = data.time_zone
    offering.hours = {day: [list(p) for p in sorted(data.hours.get(day, []))] for day in WEEKDAYS}
    offering.contact_portal = data.contact_portal
    offering.contact_email = data.contact_email
    offering.contact_phone = data.contact_phone
    offering.contact_notes = data.contact_notes
    offering.contact_notes_ru = data.contact_notes_ru
    offering.price_model = data.price_model
    offering.currency = data.currency
    offering.price_amount = (
        None
        if data.price_model == SupportOffering.PriceModel.INCLUDED or data.price_amount is None
        else quantize(data.price_amount, data.currency)
    )
    for name in TARGET_FIELDS:
        setattr(offering, name, getattr(data, name))
    offering.updated_at, offering.updated_by = clock.now(), actor
    offering.save()
    if data.holidays is not None:
        SupportHoliday.objects.filter(offering=offering).delete()
        SupportHoliday.objects.bulk_create(
            SupportHoliday(partner=partner, offering=offering, date=h.date, name=h.name.strip()) for h in data.holidays
        )
    if data.sla_overrides is not None:
        targets_replace(owner=offering, partner=partner, targets=data.sla_overrides)
    after = _snapshot(offering, holidays=data.holidays)
    changed = {k: after[k] for k in after if before.get(k) != after[k]}
    audit_record(partner=partner, actor=actor, action="support_offering.updated", target=offering, data=changed)
    return offering


def _snapshot(offering: SupportOffering, holidays: Sequence[HolidayInput] | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "time_zone": offering.time_zone,
        "hours": offering.hours,
        "contact_portal": offering.contact_portal,
        "contact_email": offering.contact_email,
        "contact_phone": offering.contact_phone,
        "contact_notes": offering.contact_notes,
        "contact_notes_ru": offering.contact_notes_ru,
        "price_model": offering.price_model,
        "price_amount": str(offering.price_amount) if offering.price_amount is not None else None,
        "currency": offering.currency,
        **{name: getattr(offering, name) for name in TARGET_FIELDS},
    }
    if offering.pk:
        values["sla_overrides"] = [str(t) for t in offering.sla_targets.order_by("severity", "product_family")]
    if holidays is not None:
        values["holidays"] = [f"{h.date.isoformat()} {h.name}" for h in sorted(holidays, key=lambda h: h.date)]
    elif offering.pk:
        values["holidays"] = [f"{h.date.isoformat()} {h.name}" for h in offering.holidays.order_by("date")]
    return values
