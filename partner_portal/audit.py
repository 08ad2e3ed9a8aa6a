"""Writing the audit log. Every service that changes something that matters calls `audit_record`."""

from __future__ import annotations

from typing import Any

from django.db import models

from partner_portal.models import AuditEvent, Customer, Partner, User


def audit_record(
    *,
    partner: Partner,
    action: str,
    target: models.Model,
    actor: User | None = None,
    customer: Customer | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `action` is "<entity>.<verb>" (e.g. "customer.created")."""
    if customer is None and isinstance(target, Customer):
        customer = target
    return AuditEvent.objects.create(
        partner=partner,
        customer=customer,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        data=data or {},
    )
