"""The second-factor rule, one for every way in: pages, the session API and API token issuance.

With PORTAL_MFA_REQUIRED on, a user whose role is in PORTAL_MFA_REQUIRED_ROLES must have TOTP
enrolled before anything but enrolment is open to them, and a browser session of a user with TOTP
counts only once its second factor was completed in that session (allauth's login stage, the
reauthentication page, or proving a code while enrolling). A password alone never gets further.
"""

from __future__ import annotations

from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest

from partner_portal.models import User


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def enrolment_missing(user: User, role: str | None) -> bool:
    """MFA is required for this role and the user has not enrolled TOTP: no way in but enrolment."""
    if not settings.PORTAL_MFA_REQUIRED or role not in settings.PORTAL_MFA_REQUIRED_ROLES:
        return False
    return not has_totp(user)


def session_second_factor_missing(request: HttpRequest, user: User) -> bool:
    """A session of a user with TOTP in which no second factor was completed (MFA required only)."""
    if not settings.PORTAL_MFA_REQUIRED or not has_totp(user):
        return False
    return not any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def record_enrolment(
    sender: Any, request: HttpRequest | None, user: User, authenticator: Authenticator, **_: Any
) -> None:
    """Enrolling TOTP proves a valid code: the session that did it has completed its second factor."""
    if request is not None and authenticator.type == Authenticator.Type.TOTP:
        record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True)
