"""Sign-ins, failed sign-ins and lockouts in the audit log.

An event belongs to the partner of the account it is about. A failed sign-in for an address without a
membership has no partner: it is written to the log only, without the address.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from partner_portal.audit import audit_record
from partner_portal.models import User

log = logging.getLogger("partner_portal.signin")


def _channel(request: HttpRequest | None) -> str:
    return "api" if request is not None and request.path.startswith("/api/") else "page"


def _member(email: str) -> User | None:
    if not email:
        return None
    return (
        User.objects.select_related("membership__partner", "membership__customer")
        .filter(email__iexact=email.strip(), membership__isnull=False)
        .first()
    )


def _record(user: User, action: str, request: HttpRequest | None, *, actor: User | None) -> None:
    membership = user.membership
    audit_record(
        partner=membership.partner,
        customer=membership.customer,
        actor=actor,
        action=action,
        target=user,
        data={"channel": _channel(request)},
    )


def _about_email(email: str, action: str, request: HttpRequest | None) -> None:
    user = _member(email)
    if user is None:
        log.info("%s for an address without a portal account (channel %s)", action, _channel(request))
        return
    _record(user, action, request, actor=None)


def record_sign_in(sender: Any, request: HttpRequest | None, user: User, **_: Any) -> None:
    """allauth's `user_logged_in`: a sign-in through the portal's pages."""
    if hasattr(user, "membership"):
        _record(user, "auth.signed_in", request, actor=user)


def record_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    """Django's `user_login_failed`: wrong credentials, on the sign-in page or the token endpoint."""
    _about_email(str(credentials.get("email") or credentials.get("username") or ""), "auth.sign_in_failed", request)


def record_code_failed(request: HttpRequest | None, user: User) -> None:
    """The password was right but the second-factor code was not."""
    _record(user, "auth.sign_in_failed", request, actor=None)


def record_lockout(request: HttpRequest | None, email: str) -> None:
    """Too many failed attempts: the attempt was refused without checking the password."""
    _about_email(email, "auth.locked_out", request)
