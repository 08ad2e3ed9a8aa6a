"""The lists' searches at scale: a row matches on its own columns or on its customer's name or domain.

Written as one condition over the join (`number ILIKE … OR customer.name ILIKE …`), PostgreSQL can use
no index and reads the partner's rows in sort order until a page is full, every row when little
matches (a whole million invoices for one number). As the union of two sets of ids, each found
through its own trigram index (partner_portal/trigram.py), it reads only what matches.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Q, QuerySet

from partner_portal.models import Customer
from partner_portal.tenancy import Scope

_Q = TypeVar("_Q", bound=QuerySet[Any])


def search_with_customer(qs: _Q, *, scope: Scope, own: Q, term: str, customer_path: str = "customer") -> _Q:
    """Rows of `qs` that match `own` or whose customer (at `customer_path`) has `term` in its name or domain."""
    model = qs.model
    customers = (
        Customer.objects.for_scope(scope).filter(Q(name__icontains=term) | Q(domain__icontains=term)).values("pk")
    )
    scoped = model._default_manager.for_scope(scope)
    ids = (
        scoped.filter(own)
        .order_by()
        .values("pk")
        .union(scoped.filter(**{f"{customer_path}__in": customers}).order_by().values("pk"))
    )
    return qs.filter(pk__in=ids)
