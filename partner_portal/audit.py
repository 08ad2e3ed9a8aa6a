"""Writing the audit log. Every service that changes something that matters calls `audit_record`."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from django.db import connection, models
from django.http import HttpRequest

from partner_portal import clock
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


class AuditRow(NamedTuple):
    """One event of many written at once (`audit_record_many`)."""

    target_type: str  # the target's model label, e.g. "subscriptions.subscription"
    target_id: str
    target_repr: str
    customer_id: int | None
    data: dict[str, Any]


def audit_row(target: models.Model, data: dict[str, Any]) -> AuditRow:
    """The event `audit_record` would write for `target`, for `audit_record_many`."""
    customer_id = target.pk if isinstance(target, Customer) else getattr(target, "customer_id", None)
    return AuditRow(target._meta.label_lower, str(target.pk), str(target)[:200], customer_id, data)


_MANY_SQL = """
INSERT INTO {table} (partner_id, customer_id, actor_id, action, target_type, target_id, target_repr, data, created_at)
SELECT %(partner)s, u.customer_id, %(actor)s, %(action)s, u.target_type, u.target_id, left(u.target_repr, 200),
       u.data::jsonb, %(created_at)s
FROM unnest(%(types)s::text[], %(ids)s::text[], %(reprs)s::text[], %(customers)s::bigint[], %(data)s::text[])
    AS u(target_type, target_id, target_repr, customer_id, data)
"""


def audit_record_many(
    *,
    partner: Partner,
    action: str,
    actor: User | None,
    rows: Sequence[AuditRow],
    created_at: dt.datetime | None = None,
) -> None:
    """Append many events of one action at once (a collections run's suspensions, a sync's new
    subscriptions). On PostgreSQL one INSERT … SELECT over arrays, without an object per event."""
    if not rows:
        return
    actor = actor if actor is not None and actor.is_authenticated else None
    created_at = created_at or clock.now()
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(
            AuditEvent(
                partner=partner, customer_id=row.customer_id, actor=actor, action=action, target_type=row.target_type,
                target_id=row.target_id, target_repr=row.target_repr[:200], data=row.data, created_at=created_at,
            )
            for row in rows
        )  # fmt: skip
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _MANY_SQL.format(table=AuditEvent._meta.db_table),
            {
                "partner": partner.pk, "actor": actor.pk if actor is not None else None, "action": action,
                "created_at": created_at, "types": [row.target_type for row in rows],
                "ids": [row.target_id for row in rows], "reprs": [row.target_repr for row in rows],
                "customers": [row.customer_id for row in rows],
                "data": [json.dumps(row.data) for row in rows],
            },
        )  # fmt: skip


# Who is acting, for changes noticed below the services (a password set, an account deactivated, in
# `User.save`): the one a service names with `acting(...)`, else the signed-in user of the request
# being answered (`RequestIdMiddleware` binds it; DRF hands its authenticated user to the same request).
_ACTOR: contextvars.ContextVar[User | None] = contextvars.ContextVar("portal_audit_actor", default=None)
_REQUEST: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("portal_audit_request", default=None)


@contextmanager
def acting(actor: User | None) -> Iterator[None]:
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


@contextmanager
def request_bound(request: HttpRequest) -> Iterator[None]:
    token = _REQUEST.set(request)
    try:
        yield
    finally:
        _REQUEST.reset(token)


def current_actor() -> User | None:
    """The acting user, or None for the system (a job, a command, a shell)."""
    actor = _ACTOR.get()
    if actor is not None:
        return actor
    request = _REQUEST.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if isinstance(user, User) and user.is_authenticated else None
