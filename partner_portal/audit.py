"""Writing the audit log. Every service that changes something that matters calls `audit_record`."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.http import HttpRequest

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
