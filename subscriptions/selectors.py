"""Reads of subscriptions for pages and the API, always through a Scope."""

from __future__ import annotations

from django.db.models import QuerySet

from partner_portal.tenancy import Scope
from subscriptions.models import Subscription


def subscription_list(*, scope: Scope, customer_id: int | None = None) -> QuerySet[Subscription]:
    """Subscriptions the scope may see (a customer user: its own customer's only), by product."""
    qs = Subscription.objects.for_scope(scope).select_related("customer").order_by("customer_id", "product", "pk")
    return qs.filter(customer_id=customer_id) if customer_id else qs
