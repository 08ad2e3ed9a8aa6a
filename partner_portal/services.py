"""Writes of the core: customers, invitations and memberships. Every change is audited."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from knox.models import get_digest_token
from knox.settings import CONSTANTS

from partner_portal import clock
from partner_portal.audit import acting, audit_record
from partner_portal.errors import ErrorKind, InvitationInvalid, PortalError, RoleNotAllowed, TeamChangeRefused
from partner_portal.models import (
    CUSTOMER_ROLES,
    STAFF_ROLES,
    ApiToken,
    Customer,
    Invitation,
    Membership,
    Partner,
    Role,
    User,
)
from partner_portal.tasks import invitation_send_task

INVITATION_VALID_FOR = dt.timedelta(days=7)

# The customer fields staff may set; everything else (partner, created_at) is fixed by the service.
CUSTOMER_EDITABLE_FIELDS = (
    "name",
    "tenant_id",
    "domain",
    "billing_contact",
    "billing_email",
    "billing_phone",
    "address",
    "street",
    "city",
    "post_code",
    "country",
    "tax_id",
    "legal_registration_id",
    "peppol_scheme",
    "peppol_id",
    "buyer_reference",
    "order_reference",
    "einvoice_format",
    "card_payments",
    "currency",
    "language",
    "credit_days",
    "collections_exempt",
    "collections_extra_grace_days",
    "promise_to_pay_until",
    "notes",
)


# The partner's details staff change on the settings page: what its documents and e-invoices say of it.
PARTNER_EDITABLE_FIELDS = (
    "name",
    "address",
    "street",
    "city",
    "post_code",
    "country",
    "tax_id",
    "legal_registration_id",
    "contact_name",
    "support_email",
    "support_phone",
    "iban",
    "bic",
    "peppol_scheme",
    "peppol_id",
    "payment_instructions",
    "payment_instructions_ru",
)


class FieldsInvalid(PortalError):
    """The model's own rules refused the values (its validators and clean())."""

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> FieldsInvalid:
        return cls(fields={name: list(msgs) for name, msgs in exc.message_dict.items()})


def _full_clean(obj: Partner | Customer, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise FieldsInvalid.from_validation_error(exc) from exc


class DuplicateTenantId(PortalError):
    """Another customer of the partner already has this Microsoft tenant ID."""

    def __init__(self) -> None:
        message = _("A customer with this Microsoft tenant ID already exists.")
        super().__init__(message, fields={"tenant_id": [message]})


class CustomerCurrencyLocked(PortalError):
    """The customer still has money in its currency (open invoices, credit, subscriptions priced in it)."""

    kind = ErrorKind.CONFLICT

    def __init__(self, message: str) -> None:
        super().__init__(message, fields={"currency": [message]})


# What holds a customer to its currency, asked before the currency changes: each function is given the
# customer and its current currency and answers phrases such as "2 open invoices" (none: nothing holds
# it). The apps that keep money in a customer's currency register one in their AppConfig.ready(); the
# core names no app.
CurrencyHolds = Callable[[Customer, str], list[str]]
_currency_holds: list[CurrencyHolds] = []


def customer_currency_holds_register(holds: CurrencyHolds) -> None:
    if holds not in _currency_holds:
        _currency_holds.append(holds)


def _check_currency_change(customer: Customer, new: str) -> None:
    old = customer.currency
    found = [phrase for holds in _currency_holds for phrase in holds(customer, old)]
    if found:
        raise CustomerCurrencyLocked(
            _(
                "The currency cannot change from %(old)s to %(new)s while the customer has %(what)s in %(old)s: "
                "their amounts would no longer match. Settle, void or cancel them first."
            )
            % {"old": old, "new": new, "what": ", ".join(found)}
        )


def _audit_value(value: Any) -> Any:
    return value if isinstance(value, str | int | bool | type(None)) else str(value)


@transaction.atomic
def customer_create(*, partner: Partner, actor: User | None, data: dict[str, Any]) -> Customer:
    """Create a customer of `partner` from validated `data` (keys of CUSTOMER_EDITABLE_FIELDS)."""
    unknown = set(data) - set(CUSTOMER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    customer = Customer(partner=partner, **data)
    _full_clean(customer, exclude=["partner"])
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        raise DuplicateTenantId from exc
    audit_record(
        partner=partner,
        actor=actor,
        action="customer.created",
        target=customer,
        data={k: _audit_value(v) for k, v in data.items()},
    )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor: User | None, changes: dict[str, Any]) -> Customer:
    """Apply `changes` to a customer; the audit event records each field's old and new value.

    The currency does not change while anything is held in the old one (CustomerCurrencyLocked).
    """
    unknown = set(changes) - set(CUSTOMER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if "currency" in changes and changes["currency"] != customer.currency:
        _check_currency_change(customer, changes["currency"])
    diff = {}
    for name, value in changes.items():
        old = getattr(customer, name)
        if old != value:
            diff[name] = {"from": _audit_value(old), "to": _audit_value(value)}
            setattr(customer, name, value)
    if not diff:
        return customer
    _full_clean(customer, exclude=["partner"])
    try:
        with transaction.atomic():
            customer.save(update_fields=list(diff))
    except IntegrityError as exc:
        raise DuplicateTenantId from exc
    audit_record(partner=customer.partner, actor=actor, action="customer.updated", target=customer, data=diff)
    return customer


@transaction.atomic
def partner_update(*, partner: Partner, actor: User | None, changes: dict[str, Any]) -> Partner:
    """Apply `changes` (keys of PARTNER_EDITABLE_FIELDS) to the partner's details; the audit event records
    each field's old and new value. An IBAN and BIC are stored without spaces, in capitals."""
    unknown = set(changes) - set(PARTNER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    for name, value in changes.items():
        setattr(partner, name, value)
    before = Partner.objects.values(*changes).get(pk=partner.pk)
    _full_clean(partner)  # normalises the IBAN and BIC
    diff = {
        name: {"from": _audit_value(before[name]), "to": _audit_value(getattr(partner, name))}
        for name in changes
        if before[name] != getattr(partner, name)
    }
    if diff:
        partner.save(update_fields=list(diff))
        audit_record(partner=partner, actor=actor, action="partner.updated", target=partner, data=diff)
    return partner


@dataclass(frozen=True)
class InvitationRequest:
    email: str
    role: str
    customer: Customer | None = None


@transaction.atomic
def invitation_create(*, partner: Partner, actor: User, request: InvitationRequest, base_url: str) -> Invitation:
    """Invite someone by email as staff of `partner` or as a user of one of its customers.

    The email goes out after commit, in the customer's language for customer users.
    """
    email = request.email.strip().lower()
    if request.role in STAFF_ROLES and request.customer is not None:
        raise RoleNotAllowed(_("Staff roles do not belong to a customer."))
    if request.role in CUSTOMER_ROLES and request.customer is None:
        raise RoleNotAllowed(_("Choose the customer this user belongs to."))
    if request.customer is not None and request.customer.partner_id != partner.pk:
        raise RoleNotAllowed(_("Choose one of your own customers."))
    # Only one's own partner is told that the address is taken. An account at another partner is not
    # disclosed: the invitation is created and sent as for anyone; accepting it is refused (invitation_accept).
    if User.objects.filter(email__iexact=email, membership__partner=partner).exists():
        raise InvitationInvalid(_("This person is already a member of your team."))
    invitation = Invitation.objects.create(
        partner=partner,
        customer=request.customer,
        email=email,
        role=request.role,
        token=secrets.token_urlsafe(32),
        invited_by=actor,
        expires_at=clock.now() + INVITATION_VALID_FOR,
    )
    audit_record(
        partner=partner,
        customer=request.customer,
        actor=actor,
        action="invitation.sent",
        target=invitation,
        data={"email": email, "role": request.role},
    )
    _invitation_send_after_commit(invitation, base_url)
    return invitation


def _invitation_send_after_commit(invitation: Invitation, base_url: str) -> None:
    accept_url = base_url.rstrip("/") + reverse("invitation_accept", args=[invitation.token])
    transaction.on_commit(lambda: invitation_send_task.delay(invitation_id=invitation.pk, accept_url=accept_url))


def invitation_send(*, invitation_id: int, accept_url: str) -> None:
    """Email the invitation, in the customer's language for customer users. Skipped once accepted."""
    invitation = Invitation.objects.select_related("partner", "customer").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None:
        return  # revoked or already accepted: nothing to send
    language = invitation.customer.language if invitation.customer else invitation.partner.locale
    context = {"invitation": invitation, "partner": invitation.partner, "accept_url": accept_url}
    with translation.override(language):
        subject = render_to_string("emails/invitation_subject.txt", context).strip()
        body = render_to_string("emails/invitation.txt", context)
        html = render_to_string("emails/invitation.html", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email], html_message=html)


def invitation_get_open(*, token: str) -> Invitation:
    invitation = Invitation.objects.select_related("partner", "customer").filter(token=token).first()
    if invitation is None or not invitation.is_open(clock.now()):
        raise InvitationInvalid(_("This invitation has expired or was already used. Ask for a new one."))
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, full_name: str = "") -> User:
    """Create the account and membership of an open invitation. One use: a second call is refused.

    The email address counts as verified: the invitation link reached it.
    """
    invitation = invitation_get_open(token=token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open(clock.now()):
        raise InvitationInvalid(_("This invitation has expired or was already used. Ask for a new one."))
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is not None and hasattr(user, "membership"):
        raise InvitationInvalid(_("This person already has an account in the portal."))
    if user is None:
        language = invitation.customer.language if invitation.customer else invitation.partner.locale
        user = User.objects.create_user(invitation.email, password, full_name=full_name, language=language)
    Membership.objects.create(user=user, partner=invitation.partner, customer=invitation.customer, role=invitation.role)
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    invitation.accepted_at = clock.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        partner=invitation.partner,
        customer=invitation.customer,
        actor=user,
        action="invitation.accepted",
        target=invitation,
        data={"role": invitation.role},
    )
    return user


# ---- The team: invitations and members ---------------------------------------------------------------


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Withdraw an invitation that has not been accepted: its link stops working at once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise InvitationInvalid(_("This invitation was already accepted: deactivate the member instead."))
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = clock.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        partner=invitation.partner,
        customer=invitation.customer,
        actor=actor,
        action="invitation.revoked",
        target=invitation,
        data={"email": invitation.email, "role": invitation.role},
    )
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User, base_url: str) -> Invitation:
    """Send an open (or expired) invitation again with a new link valid for another 7 days; the old
    link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise InvitationInvalid(_("This invitation was accepted or revoked: send a new one instead."))
    invitation.token = secrets.token_urlsafe(32)
    invitation.expires_at = clock.now() + INVITATION_VALID_FOR
    invitation.save(update_fields=["token", "expires_at"])
    audit_record(
        partner=invitation.partner,
        customer=invitation.customer,
        actor=actor,
        action="invitation.resent",
        target=invitation,
        data={"email": invitation.email},
    )
    _invitation_send_after_commit(invitation, base_url)
    return invitation


def _lock_admins(partner: Partner) -> int:
    """Lock the partner's row (team changes queue behind one another) and count its active admins."""
    Partner.objects.select_for_update().get(pk=partner.pk)
    return Membership.objects.filter(
        partner=partner, role=Role.PARTNER_ADMIN, customer__isnull=True, user__is_active=True
    ).count()


def _refuse_losing_the_last_admin(membership: Membership) -> None:
    if membership.role == Role.PARTNER_ADMIN and membership.user.is_active and _lock_admins(membership.partner) <= 1:
        raise TeamChangeRefused(
            _("%(email)s is the only partner admin: make someone else a partner admin first.")
            % {"email": membership.user.email}
        )


@transaction.atomic
def membership_role_change(*, membership: Membership, actor: User, role: str) -> Membership:
    """Give a member another role of the same side: staff roles for staff, customer roles for a
    customer's users. The partner always keeps one active partner admin."""
    membership = Membership.objects.select_related("user", "partner").get(pk=membership.pk)
    allowed = STAFF_ROLES if membership.customer_id is None else CUSTOMER_ROLES
    if role not in allowed:
        raise RoleNotAllowed(fields={"role": [_("Choose one of the roles this member can have.")]})
    if role == membership.role:
        return membership
    _refuse_losing_the_last_admin(membership)
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        partner=membership.partner,
        customer=membership.customer,
        actor=actor,
        action="member.role_changed",
        target=membership,
        data={"email": membership.user.email, "from": previous, "to": role},
    )
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership, actor: User) -> Membership:
    """End a member's access: no sign-in, the open sessions end on their next request, API tokens are
    deleted. The account and its history stay; it can be reactivated."""
    membership = Membership.objects.select_related("user", "partner").get(pk=membership.pk)
    user = membership.user
    if user.pk == actor.pk:
        raise TeamChangeRefused(_("You cannot deactivate yourself: ask another partner admin."))
    if not user.is_active:
        return membership
    _refuse_losing_the_last_admin(membership)
    user.is_active = False
    with acting(actor):  # the save deletes the member's API tokens, audited as the admin's doing
        user.save(update_fields=["is_active"])
    audit_record(
        partner=membership.partner,
        customer=membership.customer,
        actor=actor,
        action="member.deactivated",
        target=membership,
        data={"email": user.email, "role": membership.role},
    )
    return membership


@transaction.atomic
def membership_reactivate(*, membership: Membership, actor: User) -> Membership:
    membership = Membership.objects.select_related("user", "partner").get(pk=membership.pk)
    user = membership.user
    if user.is_active:
        return membership
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(
        partner=membership.partner,
        customer=membership.customer,
        actor=actor,
        action="member.reactivated",
        target=membership,
        data={"email": user.email, "role": membership.role},
    )
    return membership


# --- API tokens ----------------------------------------------------------------------------------------


@transaction.atomic
def api_token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for a member: its row (the secret's hash) and the secret, shown once.

    The caller has checked the credentials and the second-factor rule (partner_portal.api.AuthTokenView).
    The token ends API_TOKEN_TTL_DAYS after now; a user may hold several, one per integration.
    """
    membership = user.membership
    digest, secret = get_digest_token()
    token = ApiToken.objects.create(
        user=user,
        partner=membership.partner,
        name=name.strip(),
        digest=digest,
        token_key=secret[: CONSTANTS.TOKEN_KEY_LENGTH],
        expiry=clock.now() + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    audit_record(
        partner=membership.partner,
        customer=membership.customer,
        actor=user,
        action="auth.token_issued",
        target=user,
        data={"channel": "api", "name": token.name, "expires": token.expiry.isoformat() if token.expiry else None},
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> None:
    """Delete one token: by its owner, or by a partner admin of the owner's partner (the caller's
    selector found it in their scope). The next request with it is refused."""
    owner = User.objects.select_related("membership__partner", "membership__customer").get(pk=token.user_id)
    deleted, _rows = ApiToken.objects.filter(pk=token.pk).delete()
    if not deleted:
        return
    audit_record(
        partner=owner.membership.partner,
        customer=owner.membership.customer,
        actor=actor,
        action="auth.token_revoked",
        target=owner,
        data={"name": token.name, "email": owner.email},
    )


@transaction.atomic
def api_tokens_revoke_all(*, user: User, actor: User | None, reason: str) -> int:
    """Delete every API token of a user. `User.save` calls it whenever a password is set or an account
    deactivated, whatever made the change; `reason` is "password" or "deactivated"."""
    deleted, _rows = ApiToken.objects.filter(user=user).delete()
    membership = getattr(user, "membership", None)
    if deleted and membership is not None:
        audit_record(
            partner=membership.partner,
            customer=membership.customer,
            actor=actor,
            action="auth.tokens_revoked",
            target=user,
            data={"count": deleted, "reason": reason, "email": user.email},
        )
    return deleted
