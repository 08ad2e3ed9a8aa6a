"""Reads of escalation for pages and the API, always through a Scope. Customer scopes see nothing here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import translation

from escalation.models import BreachNotice, Entitlement, EntitlementType, Escalation, SupportChannel, SupportTier
from partner_portal import clock
from partner_portal.tenancy import Scope, get_scoped_or_404
from subscriptions.models import Subscription
from tickets.models import Ticket, TicketMessage

ESCALATION_SORTS: dict[str, tuple[str, bool]] = {
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "-updated": ("updated_at", True),
}


def support_tier_list() -> QuerySet[SupportTier]:
    """The catalogue of Microsoft support tiers (the same for every partner)."""
    return SupportTier.objects.order_by("rank", "code")


def family_channels(*, cloud: str) -> dict[int, list[tuple[str, str]]]:
    """Per tier id: (product family's name, where to file) in `cloud`, from the catalogue."""
    names = dict(Ticket.ProductFamily.choices)
    out: dict[int, list[tuple[str, str]]] = {}
    for row in SupportChannel.objects.filter(cloud=cloud).order_by("product_family"):
        out.setdefault(row.tier_id, []).append((str(names.get(row.product_family, row.product_family)), row.channel))
    return out


def entitlement_type_list() -> QuerySet[EntitlementType]:
    """The catalogue's entitlement types with their tiers (the same for every partner)."""
    return EntitlementType.objects.select_related("tier").order_by("rank", "code")


def entitlement_list(*, scope: Scope) -> QuerySet[Entitlement]:
    """The partner's entitlements in its order of preference (customer scopes: none)."""
    return (
        Entitlement.objects.for_scope(scope)
        .select_related("created_by", "kind__tier")
        .order_by("preference", "valid_from", "pk")
    )


def entitlement_get(*, scope: Scope, pk: int | str) -> Entitlement:
    return get_scoped_or_404(entitlement_list(scope=scope), scope, pk=pk)


def entitlement_state(entitlement: Entitlement, today: dt.date) -> str:
    """ "active", "future" or "ended" on `today`."""
    if entitlement.valid_from > today:
        return "future"
    if entitlement.valid_until is not None and entitlement.valid_until < today:
        return "ended"
    return "active"


@dataclass(frozen=True)
class EscalationFilters:
    search: str = ""  # ticket reference or subject, customer name, Microsoft case number
    tier: str = ""  # tier code
    status: str = ""  # an Escalation.Status, or "open" for every open status
    ticket_id: int | None = None
    automatic: bool | None = None


def escalation_list(*, scope: Scope, filters: EscalationFilters | None = None) -> QuerySet[Escalation]:
    """Escalations of the scope's partner (customer scopes: none), with what the list pages show."""
    qs = Escalation.objects.for_scope(scope).select_related("ticket__customer", "tier", "created_by")
    f = filters or EscalationFilters()
    if f.search:
        term = f.search.strip()
        match = (
            Q(ticket__subject__icontains=term)
            | Q(ticket__customer__name__icontains=term)
            | Q(microsoft_case_number__icontains=term)
        )
        number = term.upper().removeprefix("T-").lstrip("0")
        if number.isdigit():
            match |= Q(ticket__number=int(number))
        qs = qs.filter(match)
    if f.tier:
        qs = qs.filter(tier__code=f.tier)
    if f.status == "open":
        qs = qs.open()
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.ticket_id:
        qs = qs.filter(ticket_id=f.ticket_id)
    if f.automatic is not None:
        qs = qs.filter(automatic=f.automatic)
    return qs


def escalation_get(*, scope: Scope, pk: int | str) -> Escalation:
    qs = escalation_list(scope=scope).select_related("entitlement__kind", "ticket__partner", "ticket__assignee")
    return get_scoped_or_404(qs, scope, pk=pk)


def ticket_escalations(*, scope: Scope, ticket: Ticket) -> list[Escalation]:
    """The ticket's escalations, newest first (customer scopes: none)."""
    return list(
        escalation_list(scope=scope, filters=EscalationFilters(ticket_id=ticket.pk)).select_related("entitlement__kind")
    )


def ticket_breach_notices(*, scope: Scope, ticket: Ticket) -> list[BreachNotice]:
    return list(BreachNotice.objects.for_scope(scope).filter(ticket_id=ticket.pk).order_by("sent_at", "pk"))


def escalation_summary(*, escalation: Escalation) -> str:
    """A plain-text brief to paste into Microsoft's case form: the partner, the customer's tenant and
    subscriptions, the ticket's facts and its whole history (internal notes too: staff only).

    Written in English whatever the agent's language: it is for Microsoft's support engineers.
    """
    ticket = (
        Ticket.objects.select_related("partner", "customer", "assignee")
        .prefetch_related("subscriptions")
        .get(pk=escalation.ticket_id)
    )
    history = list(
        TicketMessage.objects.filter(ticket_id=ticket.pk)
        .select_related("author__membership")
        .order_by("created_at", "pk")
    )
    subscriptions = sorted(ticket.subscriptions.all(), key=lambda s: s.pk)
    linked = bool(subscriptions)
    if not linked:  # none linked: the customer's live subscriptions of the ticket's product family
        subscriptions = list(
            Subscription.objects.filter(customer_id=ticket.customer_id, product_family=ticket.product_family)
            .exclude(status=Subscription.Status.CANCELLED)
            .order_by("pk")
        )
    # What Microsoft's engineers need for the ticket's product family, from the catalogue (none: no section).
    guidance = (
        SupportChannel.objects.filter(
            tier_id=escalation.tier_id, product_family=ticket.product_family, cloud=ticket.partner.cloud
        )
        .values_list("guidance", flat=True)
        .first()
    ) or ""
    with translation.override("en"):
        text = render_to_string(
            "escalation/summary.txt",
            {
                "escalation": escalation, "ticket": ticket, "partner": ticket.partner, "customer": ticket.customer,
                "subscriptions": subscriptions, "linked": linked, "history": history, "time_zone": ticket.partner.time_zone,
                "generated_at": clock.now(), "guidance": guidance,
            },
        )  # fmt: skip
    return text.strip() + "\n"


def escalation_ticket_get(*, scope: Scope, pk: int | str) -> Ticket:
    """A ticket of the scope to escalate (404 for another partner's or a missing one)."""
    return get_scoped_or_404(Ticket.objects.select_related("customer", "partner", "assignee"), scope, pk=pk)
