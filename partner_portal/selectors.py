"""Reads of the core for pages and the API, always through a Scope."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from partner_portal.einvoice_fields import EU_MEMBER_STATES
from partner_portal.models import ApiToken, AuditEvent, Customer, EinvoiceFormat, Invitation, Membership, Partner
from partner_portal.tenancy import Scope, get_scoped_or_404

# Sort keys the customer list offers: the page's name for it -> (model field, descending).
CUSTOMER_SORTS: dict[str, tuple[str, bool]] = {
    "name": ("name", False),
    "-name": ("name", True),
    "created": ("created_at", False),
    "-created": ("created_at", True),
    "credit_days": ("credit_days", False),
    "-credit_days": ("credit_days", True),
}


@dataclass(frozen=True)
class CustomerFilters:
    search: str = ""
    language: str = ""
    currency: str = ""
    collections: str = ""  # "exempt", "promise" or "" for all


def customer_list(*, scope: Scope, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    """Customers the scope may see, filtered. A customer user sees only its own customer."""
    qs = Customer.objects.for_scope(scope)
    f = filters or CustomerFilters()
    if f.search:
        term = f.search.strip()
        match = (
            Q(name__icontains=term)
            | Q(domain__icontains=term)
            | Q(billing_email__icontains=term)
            | Q(billing_contact__icontains=term)
        )
        if _as_uuid(term) is not None:
            match |= Q(tenant_id=_as_uuid(term))
        qs = qs.filter(match)
    if f.language:
        qs = qs.filter(language=f.language)
    if f.currency:
        qs = qs.filter(currency=f.currency)
    if f.collections == "exempt":
        qs = qs.filter(collections_exempt=True)
    elif f.collections == "promise":
        qs = qs.filter(promise_to_pay_until__isnull=False)
    return qs


def _as_uuid(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term)
    except ValueError:
        return None


def partner_get(*, scope: Scope) -> Partner:
    """The scope's own partner, read afresh (the one a request resolved may be older)."""
    return Partner.objects.get(pk=scope.partner.pk)


# What a European (EN 16931) e-invoice needs of the seller and of the buyer.
EINVOICE_PARTNER_FIELDS = ("country", "street", "city", "post_code", "tax_id")
EINVOICE_CUSTOMER_FIELDS = ("country", "street", "city", "post_code")


@dataclass(frozen=True)
class EinvoiceGaps:
    """The fields an e-invoice still needs, as labels: of the partner, and of the customer when given."""

    partner: list[str]
    customer: list[str]

    @property
    def ready(self) -> bool:
        return not self.partner and not self.customer


def _missing(obj: Partner | Customer, names: tuple[str, ...]) -> list[str]:
    fields = {f.name: f for f in obj._meta.concrete_fields}
    return [str(capfirst(fields[name].verbose_name)) for name in names if not getattr(obj, name).strip()]


def customer_is_reverse_charged(*, partner: Partner, customer: Customer) -> bool:
    """A buyer in another EU member state than the seller: its invoices at 0 % are reverse charged."""
    return bool(customer.country) and customer.country in EU_MEMBER_STATES and customer.country != partner.country


def einvoice_gaps(
    *, scope: Scope, customer: Customer | None = None, reverse_charge: bool | None = None
) -> EinvoiceGaps:
    """Which fields an e-invoice to `customer` still needs: the partner's country, address and VAT
    identifier; the customer's country and address, its VAT identifier when reverse charged (lines
    of the category AE; when not told, a buyer in another EU member state), a buyer or order reference
    when it receives Peppol UBL (PEPPOL-EN16931-R003), and its Peppol identifier when its invoices go
    over Peppol. A warning: nothing refuses."""
    partner = partner_get(scope=scope)
    missing_customer: list[str] = []
    if customer is not None:
        missing_customer = _missing(customer, EINVOICE_CUSTOMER_FIELDS)
        if reverse_charge is None:
            reverse_charge = customer_is_reverse_charged(partner=partner, customer=customer)
        if reverse_charge:
            missing_customer += _missing(customer, ("tax_id",))
        if customer.einvoice_format == EinvoiceFormat.PEPPOL:  # sent to its Peppol identifier
            missing_customer += _missing(customer, ("peppol_id",))
        peppol = customer.einvoice_format in (EinvoiceFormat.UBL, EinvoiceFormat.PEPPOL)
        if peppol and not (customer.buyer_reference.strip() or customer.order_reference.strip()):
            missing_customer.append(str(_("Buyer reference or order reference (Peppol needs one)")))
    return EinvoiceGaps(partner=_missing(partner, EINVOICE_PARTNER_FIELDS), customer=missing_customer)


def customer_get(*, scope: Scope, pk: int | str) -> Customer:
    return get_scoped_or_404(Customer.objects.select_related("partner"), scope, pk=pk)


def customer_users(*, scope: Scope, customer: Customer) -> QuerySet[Membership]:
    return Membership.objects.for_scope(scope).filter(customer=customer).select_related("user").order_by("user__email")


def customer_audit(*, scope: Scope, customer: Customer, limit: int = 20) -> list[AuditEvent]:
    qs = AuditEvent.objects.for_scope(scope).filter(customer=customer).select_related("actor")
    return list(qs[:limit])


def staff_members(*, scope: Scope) -> QuerySet[Membership]:
    return (
        Membership.objects.for_scope(scope)
        .filter(customer__isnull=True)
        .select_related("user")
        .order_by("role", "user__email")
    )


def invitations_open(*, scope: Scope) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_scope(scope)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("customer", "invited_by")
        .order_by("-created_at")
    )


def recent_audit(*, scope: Scope, limit: int = 10) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_scope(scope).select_related("actor", "customer")[:limit])


@dataclass(frozen=True)
class DashboardCounts:
    customers: int
    customer_users: int
    staff: int
    open_invitations: int


def dashboard_counts(*, scope: Scope) -> DashboardCounts:
    members = Membership.objects.for_scope(scope).aggregate(
        customer_users=Count("pk", filter=Q(customer__isnull=False)),
        staff=Count("pk", filter=Q(customer__isnull=True)),
    )
    return DashboardCounts(
        customers=Customer.objects.for_scope(scope).count(),
        customer_users=members["customer_users"],
        staff=members["staff"],
        open_invitations=invitations_open(scope=scope).count(),
    )


# ---- The audit log -----------------------------------------------------------------------------------

AUDIT_SORTS: dict[str, tuple[str, bool]] = {
    "-created": ("created_at", True),
    "created": ("created_at", False),
}


@dataclass(frozen=True)
class AuditFilters:
    search: str = ""  # the object's name as recorded (an invoice number, a customer's name, an email)
    actor_id: int | None = None
    action: str = ""  # one action ("invoice.issued") or an area ("invoice.")
    customer_id: int | None = None
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive


def audit_log(*, scope: Scope, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The partner's audit events, newest first, with who did them and for which customer."""
    f = filters or AuditFilters()
    qs = AuditEvent.objects.for_scope(scope).select_related("actor", "customer")
    if f.search:
        qs = qs.filter(target_repr__icontains=f.search.strip())
    if f.actor_id is not None:
        qs = qs.filter(actor_id=f.actor_id)
    if f.action.endswith("."):
        qs = qs.filter(action__startswith=f.action)
    elif f.action:
        qs = qs.filter(action=f.action)
    if f.customer_id is not None:
        qs = qs.filter(customer_id=f.customer_id)
    if f.since is not None:
        qs = qs.filter(created_at__gte=f.since)
    if f.until is not None:
        qs = qs.filter(created_at__lt=f.until)
    return qs


def audit_actors(*, scope: Scope) -> QuerySet[Membership]:
    """Who can appear as the actor of the partner's events: its staff (customers' users act too, and are
    found by searching their customer)."""
    return staff_members(scope=scope)


def api_tokens_own(*, scope: Scope) -> QuerySet[ApiToken]:
    """The caller's own API tokens, newest first (expired ones too, marked by their expiry)."""
    return ApiToken.objects.for_scope(scope).filter(user=scope.user).order_by("-created", "-id")


# The team page shows at most this many tokens, those that end soonest first.
TEAM_TOKENS_SHOWN = 100


def api_tokens_of_team(*, scope: Scope) -> QuerySet[ApiToken]:
    """Every API token of the partner's members (staff and customer users), for partner admins."""
    return (
        ApiToken.objects.for_scope(scope).select_related("user", "user__membership__customer").order_by("expiry", "id")
    )
