"""Subscriptions as records: created and edited by staff (the API), quantity changes with history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from subscriptions.errors import SubscriptionError
from subscriptions.models import Subscription, SubscriptionQuantityChange

# Fields staff set directly; status moves only through suspension and reactivation, quantity
# through subscription_quantity_change (invoice generation pro-rates across its history).
EDITABLE_FIELDS = (
    "product", "product_family", "offer_id", "microsoft_subscription_id", "billing_cycle", "term",
    "unit_price", "unit_cost", "tax_rate", "start_date", "end_date",
)  # fmt: skip


@dataclass(frozen=True)
class SubscriptionInput:
    customer: Customer
    product: str
    unit_price: Decimal
    start_date: dt.date
    quantity: int = 1
    product_family: str = Subscription.ProductFamily.MICROSOFT_365
    offer_id: str = ""
    microsoft_subscription_id: str = ""
    billing_cycle: str = Subscription.BillingCycle.MONTHLY
    term: str = "P1M"
    unit_cost: Decimal = Decimal("0")
    tax_rate: Decimal = Decimal("0")
    end_date: dt.date | None = None


def _duplicate_check(*, partner: Partner, microsoft_subscription_id: str, exclude_pk: int | None = None) -> None:
    if not microsoft_subscription_id:
        return
    qs = Subscription.objects.filter(partner=partner, microsoft_subscription_id=microsoft_subscription_id)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise SubscriptionError(_("Another subscription already has this Microsoft subscription ID."))


def _dates_check(start: dt.date, end: dt.date | None) -> None:
    if end is not None and end < start:
        raise SubscriptionError(_("The end date is before the start date."))


@transaction.atomic
def subscription_create(*, partner: Partner, actor: User | None, data: SubscriptionInput) -> Subscription:
    """A subscription of one of `partner`'s customers, active from its start date. Audited."""
    if data.customer.partner_id != partner.pk:
        raise ValueError("customer belongs to another partner")
    _duplicate_check(partner=partner, microsoft_subscription_id=data.microsoft_subscription_id)
    _dates_check(data.start_date, data.end_date)
    values = {f.name: getattr(data, f.name) for f in fields(data)}
    sub = Subscription.objects.create(partner=partner, **values)
    audit_record(
        partner=partner, customer=data.customer, actor=actor, action="subscription.created", target=sub,
        data={"product": sub.product, "quantity": sub.quantity, "unit_price": str(sub.unit_price)},
    )  # fmt: skip
    return sub


@transaction.atomic
def subscription_update(*, subscription: Subscription, actor: User | None, changes: dict[str, Any]) -> Subscription:
    """Change the editable fields (EDITABLE_FIELDS) of a subscription; "quantity" goes through
    subscription_quantity_change. Audited with the before and after of each changed field."""
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"quantity"}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
    quantity = changes.pop("quantity", None)
    if "microsoft_subscription_id" in changes:
        _duplicate_check(
            partner=sub.partner, microsoft_subscription_id=changes["microsoft_subscription_id"], exclude_pk=sub.pk
        )
    _dates_check(changes.get("start_date", sub.start_date), changes.get("end_date", sub.end_date))
    diff = {k: [str(getattr(sub, k)), str(v)] for k, v in changes.items() if getattr(sub, k) != v}
    for key, value in changes.items():
        setattr(sub, key, value)
    if diff:
        sub.save(update_fields=list(diff))
        audit_record(
            partner=sub.partner, customer=sub.customer, actor=actor, action="subscription.updated", target=sub,
            data=diff,
        )  # fmt: skip
    if quantity is not None and quantity != sub.quantity:
        sub = subscription_quantity_change(subscription=sub, quantity=quantity, actor=actor)
    return sub


@transaction.atomic
def subscription_quantity_change(
    *, subscription: Subscription, quantity: int, actor: User | None, effective_on: dt.date | None = None
) -> Subscription:
    """Set the quantity from `effective_on` (default: today in the partner's time zone) on.

    Keeps SubscriptionQuantityChange consistent with invoice generation: the first change also
    records the quantity the subscription had from its start, and a second change on one day
    replaces the first. Audited.
    """
    if quantity < 0:
        raise SubscriptionError(_("The quantity cannot be negative."))
    sub = Subscription.objects.select_for_update(of=("self",)).select_related("partner").get(pk=subscription.pk)
    on = effective_on or clock.today(sub.partner.time_zone)
    on = max(on, sub.start_date)
    history = SubscriptionQuantityChange.objects.filter(subscription=sub)
    if not history.exists() and on > sub.start_date:
        SubscriptionQuantityChange.objects.create(
            partner=sub.partner, subscription=sub, effective_on=sub.start_date, quantity=sub.quantity, actor=None
        )
    SubscriptionQuantityChange.objects.update_or_create(
        subscription=sub, effective_on=on, defaults={"partner": sub.partner, "quantity": quantity, "actor": actor}
    )
    before = sub.quantity
    # The current quantity is the one in force today: the latest change on or before today.
    current = (
        SubscriptionQuantityChange.objects.filter(
            subscription=sub, effective_on__lte=clock.today(sub.partner.time_zone)
        )
        .order_by("-effective_on")
        .values_list("quantity", flat=True)
        .first()
    )
    sub.quantity = quantity if current is None else current
    sub.save(update_fields=["quantity"])
    audit_record(
        partner=sub.partner, customer=sub.customer, actor=actor, action="subscription.quantity_changed", target=sub,
        data={"from": before, "to": quantity, "effective_on": on.isoformat()},
    )  # fmt: skip
    return sub
