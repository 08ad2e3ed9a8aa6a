"""Tenant scoping: the one mechanism every page, API view and selector uses.

A request's Scope comes from the signed-in user's Membership: the partner, and for a customer user
also the customer. Every tenant-owned model has a TenantQuerySet; `qs.for_scope(scope)` narrows it to
what that scope may see. Views never query a model directly, so an object of another partner or
another customer is simply not found: 404, never 403, and existence does not leak.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar, cast

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404, HttpRequest

from partner_portal import logcontext

if TYPE_CHECKING:
    from partner_portal.models import Customer, Membership, Partner, User

_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M]):
    """Base queryset of every tenant-owned model.

    `customer_lookup` is the path from the model to its Customer ("customer", "invoice__customer",
    "pk" for Customer itself), or None when customer users never see the model at all.
    """

    partner_lookup: ClassVar[str] = "partner"
    customer_lookup: ClassVar[str | None] = "customer"

    def for_partner(self, partner: Partner) -> Self:
        return self.filter(**{self.partner_lookup: partner})

    def for_customer(self, customer: Customer) -> Self:
        if self.customer_lookup is None:
            return self.none()
        return self.filter(**{self.partner_lookup: customer.partner_id, self.customer_lookup: customer.pk})

    def for_scope(self, scope: Scope) -> Self:
        if scope.customer is not None:
            return self.for_customer(scope.customer)
        return self.for_partner(scope.partner)


@dataclass(frozen=True)
class Scope:
    """Who is asking: the membership, its partner and (for customer users) its customer."""

    membership: Membership

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def partner(self) -> Partner:
        return self.membership.partner

    @property
    def customer(self) -> Customer | None:
        return self.membership.customer

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def is_staff(self) -> bool:
        return self.customer is None

    def has_role(self, roles: Collection[str]) -> bool:
        return self.role in roles


_CACHE_ATTR = "_portal_scope"


def scope_for_user(user: Any) -> Scope | None:
    """The scope of a signed-in user with an active membership, else None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    from partner_portal.models import Membership

    membership = Membership.objects.select_related("partner", "customer", "user").filter(user_id=user.pk).first()
    return Scope(membership=membership) if membership is not None else None


def request_scope(request: HttpRequest | Any) -> Scope | None:
    """The request's scope, resolved once per request (works for Django and DRF requests)."""
    user = getattr(request, "user", None)
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None and cached[0] == getattr(user, "pk", None):
        return cast(Scope | None, cached[1])
    scope = scope_for_user(user)
    setattr(request, _CACHE_ATTR, (getattr(user, "pk", None), scope))
    if scope is not None:  # the request's log lines, and the tasks it queues, name the partner
        logcontext.bind(partner_id=scope.membership.partner_id)
    return scope


def get_scoped_or_404(queryset: models.QuerySet[_M], scope: Scope, **lookup: Any) -> _M:
    """Fetch one object within the scope. Missing and foreign objects are both 404."""
    if not isinstance(queryset, TenantQuerySet):
        raise TypeError(f"{queryset.model.__name__} is not tenant-scoped")
    try:
        return cast(_M, queryset.for_scope(scope).get(**lookup))
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
