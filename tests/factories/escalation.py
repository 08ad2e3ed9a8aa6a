"""Escalation factories and helpers: tickets, entitlements and escalations through the real services."""

from __future__ import annotations

import datetime as dt
import importlib

from django.apps import apps

from escalation.models import Entitlement, Escalation
from escalation.services import EntitlementInput, entitlement_create, ticket_escalate
from partner_portal.models import Customer, Partner, User
from tickets.models import Ticket
from tickets.services import ticket_create

CURRENT = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
EXPIRED = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
FUTURE = (dt.date(2027, 1, 1), None)


def tier_catalogue() -> None:
    """Put the Microsoft support catalogue (tiers and entitlement types) back (the data migration's rows, idempotent).

    Transactional tests flush every table when they end, migration data included; a transactional
    test that routes tickets calls this first.
    """
    for name in (
        "0002_support_tier_catalogue",
        "0004_support_tier_offering_dates",
        "0005_unified_support",
        "0006_solutions_partner_incidents",
        "0007_entitlement_types_as_data",
        "0009_support_channel_per_product_family",
    ):
        importlib.import_module(f"escalation.migrations.{name}").seed(apps, None)


def entitlement(
    partner: Partner,
    kind: str = "premier",
    period: tuple[dt.date, dt.date | None] = CURRENT,
    preference: int = 100,
    reference: str = "",
    incidents: int | None = None,
) -> Entitlement:
    return entitlement_create(
        partner=partner,
        actor=None,
        data=EntitlementInput(
            kind=kind,
            valid_from=period[0],
            valid_until=period[1],
            preference=preference,
            reference=reference,
            incidents=incidents,
        ),
    )


def legacy_entitlement(
    partner: Partner, kind: str = "gold", period: tuple[dt.date, dt.date | None] = CURRENT
) -> Entitlement:
    """An entitlement recorded before its kind was retired (Gold, Silver): stored as existing data, bypassing the
    service that refuses retired kinds today."""
    return Entitlement.objects.create(partner=partner, kind_id=kind, valid_from=period[0], valid_until=period[1])


def ticket(
    customer: Customer,
    category: str = "technical",
    *,
    subject: str = "Outlook cannot connect to Exchange Online",
    severity: str = "B",
    product_family: str = "microsoft_365",
    opened_by: User | None = None,
    assignee: User | None = None,
) -> Ticket:
    return ticket_create(
        partner=customer.partner, customer=customer, opened_by=opened_by, subject=subject,
        description="Since this morning every user gets error 0x800CCC0E when Outlook starts.",
        category=category, severity=severity, product_family=product_family, assignee=assignee,
    )  # fmt: skip


def escalated(customer: Customer, category: str = "billing", actor: User | None = None) -> Escalation:
    return ticket_escalate(
        ticket=ticket(customer, category, subject="Invoice shows a licence twice"),
        reason="Partner Center shows a duplicate charge we cannot reverse.",
        actor=actor,
    )
