"""Reads of subscriptions for pages and the API, always through a Scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from partner_portal.search import search_with_customer
from partner_portal.tenancy import Scope, get_scoped_or_404
from subscriptions.models import (
    PartnerCenterAccount,
    PartnerCenterSync,
    Subscription,
    SubscriptionChange,
    SubscriptionDifference,
    SubscriptionStatusEvent,
)

# Sort keys the subscription list offers: name -> (model field, descending).
SUBSCRIPTION_SORTS: dict[str, tuple[str, bool]] = {
    "product": ("product", False),
    "-product": ("product", True),
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "-quantity": ("quantity", True),
    "quantity": ("quantity", False),
    "status": ("status", False),
    "-status": ("status", True),
}
# What the "pending changes" filter offers.
PENDING_FILTERS = ("pending", "failed", "manual", "any")


@dataclass(frozen=True)
class SubscriptionFilters:
    search: str = ""  # product, Microsoft subscription ID, customer name or domain
    status: str = ""
    customer_id: int | None = None
    product_family: str = ""
    # "pending": waiting for Microsoft; "failed": a failed change; "manual": an Azure plan step;
    # "any": any open change.
    changes: str = ""


def subscription_list(
    *, scope: Scope, customer_id: int | None = None, filters: SubscriptionFilters | None = None
) -> QuerySet[Subscription]:
    """Subscriptions the scope may see (a customer user: its own customer's only), by product."""
    qs = Subscription.objects.for_scope(scope).select_related("customer").order_by("customer_id", "product", "pk")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    f = filters or SubscriptionFilters()
    if f.search:
        term = f.search.strip()
        own = Q(product__icontains=term) | Q(microsoft_subscription_id__iexact=term)
        qs = search_with_customer(qs, scope=scope, own=own, term=term)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    if f.product_family:
        qs = qs.filter(product_family=f.product_family)
    if f.changes:
        states = {
            "pending": ["pending", "in_progress"],
            "failed": ["failed"],
            "manual": ["needs_manual_step"],
            "any": list(SubscriptionChange.OPEN_STATES),
        }.get(f.changes)
        if states:
            qs = qs.filter(Exists(SubscriptionChange.objects.filter(subscription=OuterRef("pk"), state__in=states)))
    return qs


def subscription_list_with_open_change(
    *, scope: Scope, customer_id: int | None = None, filters: SubscriptionFilters | None = None
) -> QuerySet[Subscription]:
    """subscription_list with each row's open change (at most one) prefetched as `open_changes`."""
    return subscription_list(scope=scope, customer_id=customer_id, filters=filters).prefetch_related(
        Prefetch(
            "changes",
            queryset=SubscriptionChange.objects.filter(state__in=SubscriptionChange.OPEN_STATES),
            to_attr="open_changes",
        )
    )


def subscription_get(*, scope: Scope, pk: int | str) -> Subscription:
    qs = Subscription.objects.select_related("customer", "partner")
    return get_scoped_or_404(qs, scope, pk=pk)


def subscription_history(*, scope: Scope, subscription: Subscription) -> QuerySet[SubscriptionStatusEvent]:
    """Status changes of the subscription, newest first, with who asked."""
    return (
        SubscriptionStatusEvent.objects.for_scope(scope)
        .filter(subscription=subscription)
        .select_related("actor", "change")
        .order_by("-created_at", "-pk")
    )


def subscription_changes(*, scope: Scope, subscription: Subscription) -> QuerySet[SubscriptionChange]:
    """Changes pushed (or to push) to Partner Center for the subscription, newest first."""
    return (
        SubscriptionChange.objects.for_scope(scope)
        .filter(subscription=subscription)
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )


def subscription_change_get(*, scope: Scope, pk: int | str) -> SubscriptionChange:
    qs = SubscriptionChange.objects.select_related("subscription__customer", "partner")
    return get_scoped_or_404(qs, scope, pk=pk)


def subscription_changes_needing_attention(*, scope: Scope) -> QuerySet[SubscriptionChange]:
    """Failed changes and Azure plan steps waiting for staff, oldest first (staff pages)."""
    return (
        SubscriptionChange.objects.for_scope(scope)
        .filter(state__in=["failed", "needs_manual_step"])
        .select_related("subscription__customer")
        .order_by("created_at", "pk")
    )


def partner_center_account(*, scope: Scope) -> PartnerCenterAccount | None:
    """The partner's Partner Center account (staff only; the secret stays encrypted)."""
    if not scope.is_staff:
        return None
    return PartnerCenterAccount.objects.for_scope(scope).first()


def partner_center_sync_latest(*, scope: Scope) -> PartnerCenterSync | None:
    """The partner's most recent sync from Partner Center (staff only)."""
    if not scope.is_staff:
        return None
    return (
        PartnerCenterSync.objects.for_scope(scope).select_related("requested_by").order_by("-created_at", "-pk").first()
    )


def partner_center_sync_get(*, scope: Scope, pk: int | str) -> PartnerCenterSync:
    return get_scoped_or_404(PartnerCenterSync.objects.all(), scope, pk=pk)


# Sort keys the differences list offers: name -> (model field, descending).
DIFFERENCE_SORTS: dict[str, tuple[str, bool]] = {
    "-found": ("found_at", True),
    "found": ("found_at", False),
    "field": ("field", False),
    "-field": ("field", True),
}


@dataclass(frozen=True)
class DifferenceFilters:
    search: str = ""  # product, Microsoft subscription ID, customer name or domain
    field: str = ""
    state: str = "open"  # "open" (open or being sent), "settled", or "" for all
    customer_id: int | None = None


def subscription_difference_list(
    *, scope: Scope, filters: DifferenceFilters | None = None
) -> QuerySet[SubscriptionDifference]:
    """Differences between the portal and Microsoft found by syncs (staff only), newest first."""
    qs = SubscriptionDifference.objects.for_scope(scope).select_related("subscription__customer", "sync")
    f = filters or DifferenceFilters()
    if f.search:
        term = f.search.strip()
        qs = qs.filter(
            Q(subscription__product__icontains=term)
            | Q(subscription__microsoft_subscription_id__iexact=term)
            | Q(subscription__customer__name__icontains=term)
            | Q(subscription__customer__domain__icontains=term)
        )
    if f.field:
        qs = qs.filter(field=f.field)
    if f.state == "open":
        qs = qs.filter(state__in=SubscriptionDifference.OPEN_STATES)
    elif f.state == "settled":
        qs = qs.exclude(state__in=SubscriptionDifference.OPEN_STATES)
    if f.customer_id:
        qs = qs.filter(subscription__customer_id=f.customer_id)
    return qs.order_by("-found_at", "-pk")


def subscription_difference_get(*, scope: Scope, pk: int | str) -> SubscriptionDifference:
    qs = SubscriptionDifference.objects.select_related("subscription__customer", "partner")
    return get_scoped_or_404(qs, scope, pk=pk)
