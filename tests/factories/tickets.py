"""Tickets factories and helpers: offerings and tickets through the real services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from partner_portal.models import Customer, Partner, User
from tickets.models import SupportHoliday, SupportOffering, Ticket
from tickets.services import support_offering_get, ticket_create

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def offering(
    partner: Partner,
    *,
    time_zone: str = "UTC",
    hours: dict[str, list[list[str]]] | None = None,
    holidays: dict[dt.date, str] | None = None,
    price_model: str = SupportOffering.PriceModel.INCLUDED,
    price_amount: str | None = None,
    currency: str = "USD",
    **fields: Any,
) -> SupportOffering:
    """The partner's offering set directly (the service is tested on its own)."""
    obj = support_offering_get(partner)
    obj.time_zone = time_zone
    if hours is not None:
        obj.hours = hours
    obj.price_model = price_model
    obj.price_amount = Decimal(price_amount) if price_amount is not None else None
    obj.currency = currency
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()
    for date, name in (holidays or {}).items():
        SupportHoliday.objects.create(partner=partner, offering=obj, date=date, name=name)
    return SupportOffering.objects.get(pk=obj.pk)


def ticket(customer: Customer, *, opened_by: User | None = None, **fields: Any) -> Ticket:
    values: dict[str, Any] = {"subject": "Cannot sign in to Outlook", "description": "Since this morning."}
    values.update(fields)
    return ticket_create(partner=customer.partner, customer=customer, opened_by=opened_by, **values)


def upload(name: str = "screenshot.png", content: bytes = PNG, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def plan(partner: Partner, name: str = "Standard", *, targets: list[tuple[str, str, int, int]] = (), **fields: Any):  # type: ignore[assignment,no-untyped-def]
    """A support plan through the service: `targets` as (severity, family or "", first, resolution)."""
    from tickets.services import PlanInput, TargetInput, support_plan_save

    for money in ("monthly_fee", "hourly_rate", "incident_price"):
        if isinstance(fields.get(money), str):
            fields[money] = Decimal(fields[money])
    data = PlanInput(name=name, targets=[TargetInput(*t) for t in targets], **fields)
    return support_plan_save(partner=partner, actor=None, data=data)
