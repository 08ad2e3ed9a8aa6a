"""Bring a partner's customers and subscriptions in from Partner Center (command sync_partner_center).

Reads every customer ("Get a list of customers") and each customer's subscriptions ("Get all of a
customer's subscriptions") through the client, which follows continuation tokens and waits out 429s.
The calls happen outside any transaction; each customer is then written in one transaction. Run it
again and nothing changes: customers are matched by tenant ID, subscriptions by Microsoft's ID. A
new subscription starts with a sale price of zero for staff to set; an existing one keeps its sale
price and cost, its portal status (that moves only through changes) and its name, and takes
Microsoft's quantity, own status, term and auto-renew.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from partner_portal.services import customer_create
from subscriptions import partner_center
from subscriptions.models import Subscription
from subscriptions.services.answers import term_from_microsoft
from subscriptions.services.push import partner_center_client
from subscriptions.services.records import SubscriptionInput, subscription_create, subscription_quantity_change

# Microsoft's own statuses worth a new row in the portal: the others are gone or going.
IMPORTED_STATUSES = {"active": Subscription.Status.ACTIVE, "suspended": Subscription.Status.SUSPENDED}
CYCLES = {"annual": Subscription.BillingCycle.ANNUAL, "monthly": Subscription.BillingCycle.MONTHLY}


@dataclass
class SyncResult:
    customers_created: int = 0
    subscriptions_created: int = 0
    subscriptions_updated: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customers_created": self.customers_created, "subscriptions_created": self.subscriptions_created,
            "subscriptions_updated": self.subscriptions_updated, "skipped": self.skipped[:50],
        }  # fmt: skip


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def partner_center_sync(*, partner: Partner, actor: User | None = None) -> SyncResult:
    """Create or update `partner`'s customers and subscriptions from Partner Center. Idempotent."""
    result = SyncResult()
    client = partner_center_client(partner=partner)
    try:
        for item in client.customers_list():
            profile = partner_center.field(item, "companyProfile") or {}
            tenant = str(partner_center.field(profile, "tenantId") or partner_center.field(item, "id") or "")
            try:
                tenant_id = uuid.UUID(tenant)
            except ValueError:
                result.skipped.append(f"customer {tenant!r}: not a tenant ID")
                continue
            subscriptions = list(client.subscriptions_list(customer_tenant_id=str(tenant_id)))
            _customer_apply(
                partner=partner, actor=actor, tenant_id=tenant_id, profile=profile, subscriptions=subscriptions,
                result=result,
            )  # fmt: skip
    finally:
        client.close()
    audit_record(partner=partner, actor=actor, action="partner_center.synced", target=partner, data=result.as_dict())
    return result


@transaction.atomic
def _customer_apply(
    *,
    partner: Partner,
    actor: User | None,
    tenant_id: uuid.UUID,
    profile: dict[str, Any],
    subscriptions: list[dict[str, Any]],
    result: SyncResult,
) -> None:
    customer = Customer.objects.select_for_update().filter(partner=partner, tenant_id=tenant_id).first()
    if customer is None:
        name = str(partner_center.field(profile, "companyName") or tenant_id)[:200]
        customer = customer_create(
            partner=partner, actor=actor,
            data={"name": name, "tenant_id": tenant_id, "domain": str(partner_center.field(profile, "domain") or ""),
                  "currency": partner.default_currency},
        )  # fmt: skip
        result.customers_created += 1
    for resource in subscriptions:
        _subscription_apply(partner=partner, actor=actor, customer=customer, resource=resource, result=result)


def _subscription_apply(
    *, partner: Partner, actor: User | None, customer: Customer, resource: dict[str, Any], result: SyncResult
) -> None:
    microsoft_id = str(partner_center.field(resource, "id") or "")
    status = str(partner_center.field(resource, "status") or "").lower()
    quantity = partner_center.field(resource, "quantity")
    sub = (
        Subscription.objects.select_for_update().filter(partner=partner, microsoft_subscription_id=microsoft_id).first()
    )
    created = sub is None
    if sub is None:
        if status not in IMPORTED_STATUSES or not microsoft_id:
            result.skipped.append(f"subscription {microsoft_id or '?'}: {status or 'no status'} at Microsoft")
            return
        offer_name = partner_center.field(resource, "offerName") or partner_center.field(resource, "friendlyName")
        sub = subscription_create(
            partner=partner, actor=actor,
            data=SubscriptionInput(
                customer=customer, product=str(offer_name or microsoft_id)[:200], unit_price=Decimal("0"),
                start_date=_date(partner_center.field(resource, "effectiveStartDate")) or clock.today(partner.time_zone),
                quantity=int(quantity) if isinstance(quantity, int) else 1,
                offer_id=str(partner_center.field(resource, "offerId") or "")[:100], microsoft_subscription_id=microsoft_id,
                billing_cycle=CYCLES.get(str(partner_center.field(resource, "billingCycle") or "").lower(),
                                         Subscription.BillingCycle.MONTHLY),
            ),
        )  # fmt: skip
        if IMPORTED_STATUSES[status] != sub.status:
            sub.status = IMPORTED_STATUSES[status]
            sub.save(update_fields=["status"])
        result.subscriptions_created += 1
    elif sub.customer_id != customer.pk:
        result.skipped.append(f"subscription {microsoft_id}: belongs to another customer in the portal")
        return
    changed = term_from_microsoft(sub, {"subscription": resource})
    if changed:
        sub.save(update_fields=changed)
    if isinstance(quantity, int) and quantity != sub.quantity:
        sub = subscription_quantity_change(subscription=sub, quantity=quantity, actor=actor)
        changed.append("quantity")
    if changed and not created:
        result.subscriptions_updated += 1
