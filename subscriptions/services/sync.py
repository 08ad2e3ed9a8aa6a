"""Bring a partner's customers and subscriptions in from Partner Center (docs/architecture.md).

Reads every customer ("Get a list of customers"), then each customer's subscriptions ("Get all of a
customer's subscriptions") through the client, which follows continuation tokens and waits out 429s.
The calls happen outside any transaction. Customers are written a batch at a time (BATCH, a page of
Microsoft's list), set-based: a fixed number of queries per batch whatever its size — one read of the
batch's customers, one of their subscriptions, one insert of each kind of new row, one update of the
changed ones, one insert of audit events. Run it again and nothing changes: customers are matched by
tenant ID, subscriptions by Microsoft's ID. A new subscription starts with a sale price of zero for
staff to set; an existing one keeps its sale price and cost, its name, its portal status (that moves
only through changes) and its quantity, and takes Microsoft's own status and term. Where the portal's
status, quantity, term end or auto-renew differ from Microsoft's, the sync records a difference for
staff to settle (subscriptions/services/differences.py) instead of overwriting either side.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from partner_portal import clock
from partner_portal.audit import audit_record, audit_record_many, audit_row
from partner_portal.models import Customer, Partner, User
from subscriptions import partner_center
from subscriptions.models import AZURE_PLAN_PRODUCT_ID, ChangeSource, Subscription
from subscriptions.services.answers import term_from_microsoft
from subscriptions.services.differences import Found, differences_found, differences_record
from subscriptions.services.push import partner_center_client

# Microsoft's own statuses worth a new row in the portal: the others are gone or going.
IMPORTED_STATUSES = {"active": Subscription.Status.ACTIVE, "suspended": Subscription.Status.SUSPENDED}
CYCLES = {"annual": Subscription.BillingCycle.ANNUAL, "monthly": Subscription.BillingCycle.MONTHLY}
# Customers written per transaction, and asked of Microsoft per page of its customer list.
BATCH = 100

Progress = Callable[[int, int], None]


@dataclass
class SyncResult:
    customers_created: int = 0
    subscriptions_created: int = 0
    subscriptions_updated: int = 0
    differences_found: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customers_created": self.customers_created, "subscriptions_created": self.subscriptions_created,
            "subscriptions_updated": self.subscriptions_updated, "differences_found": self.differences_found,
            "skipped": self.skipped[:50],
        }  # fmt: skip


@dataclass
class _Customer:
    tenant_id: uuid.UUID
    profile: dict[str, Any]
    subscriptions: list[dict[str, Any]] = field(default_factory=list)


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def partner_center_sync(
    *, partner: Partner, actor: User | None = None, progress: Progress | None = None, sync_id: int | None = None
) -> SyncResult:
    """Create or update `partner`'s customers and subscriptions from Partner Center. Idempotent.

    `progress(done, total)` is told the number of customers written so far and in all, once the
    customer list is read and after each batch."""
    result = SyncResult()
    client = partner_center_client(partner=partner)
    try:
        listed: list[_Customer] = []
        for item in client.customers_list(page_size=BATCH):
            profile = partner_center.field(item, "companyProfile") or {}
            tenant = str(partner_center.field(profile, "tenantId") or partner_center.field(item, "id") or "")
            try:
                listed.append(_Customer(tenant_id=uuid.UUID(tenant), profile=profile))
            except ValueError:
                result.skipped.append(f"customer {tenant!r}: not a tenant ID")
        if progress is not None:
            progress(0, len(listed))
        for start in range(0, len(listed), BATCH):
            batch = listed[start : start + BATCH]
            for entry in batch:
                entry.subscriptions = list(client.subscriptions_list(customer_tenant_id=str(entry.tenant_id)))
            _batch_apply(partner=partner, actor=actor, batch=batch, result=result, sync_id=sync_id)
            if progress is not None:
                progress(start + len(batch), len(listed))
    finally:
        client.close()
    audit_record(partner=partner, actor=actor, action="partner_center.synced", target=partner, data=result.as_dict())
    return result


def _new_customer(partner: Partner, entry: _Customer) -> Customer:
    name = str(partner_center.field(entry.profile, "companyName") or entry.tenant_id)[:200]
    domain = str(partner_center.field(entry.profile, "domain") or "")[:253]
    return Customer(
        partner=partner, name=name, tenant_id=entry.tenant_id, domain=domain, currency=partner.default_currency
    )


def _new_subscription(partner: Partner, customer: Customer, resource: dict[str, Any]) -> Subscription:
    quantity = partner_center.field(resource, "quantity")
    offer_id = str(partner_center.field(resource, "offerId") or "")[:100]
    offer_name = partner_center.field(resource, "offerName") or partner_center.field(resource, "friendlyName")
    microsoft_id = str(partner_center.field(resource, "id"))
    status = str(partner_center.field(resource, "status") or "").lower()
    sub = Subscription(
        partner=partner, customer=customer, product=str(offer_name or microsoft_id)[:200], unit_price=Decimal("0"),
        start_date=_date(partner_center.field(resource, "effectiveStartDate")) or clock.today(partner.time_zone),
        quantity=quantity if isinstance(quantity, int) and quantity >= 0 else 1, offer_id=offer_id,
        microsoft_subscription_id=microsoft_id, status=IMPORTED_STATUSES[status],
        product_family=Subscription.ProductFamily.AZURE if offer_id.upper().startswith(AZURE_PLAN_PRODUCT_ID)
        else Subscription.ProductFamily.MICROSOFT_365,
        billing_cycle=CYCLES.get(str(partner_center.field(resource, "billingCycle") or "").lower(),
                                 Subscription.BillingCycle.MONTHLY),
    )  # fmt: skip
    if sub.status == Subscription.Status.SUSPENDED:
        sub.suspended_at, sub.suspension_source = clock.now(), ChangeSource.MANUAL
    term_from_microsoft(sub, {"subscription": resource})
    return sub


@transaction.atomic
def _batch_apply(
    *, partner: Partner, actor: User | None, batch: list[_Customer], result: SyncResult, sync_id: int | None = None
) -> None:
    """Write one batch of customers and their subscriptions, set-based (see the module's docstring)."""
    customers = {
        c.tenant_id: c
        for c in Customer.objects.select_for_update().filter(
            partner=partner, tenant_id__in=[e.tenant_id for e in batch]
        )
    }
    new_customers = [_new_customer(partner, e) for e in batch if e.tenant_id not in customers]
    if new_customers:
        Customer.objects.bulk_create(new_customers)
        audit_record_many(partner=partner, actor=actor, action="customer.created", rows=[
            audit_row(c, {"name": c.name, "tenant_id": str(c.tenant_id), "domain": c.domain, "source": "partner_center"})
            for c in new_customers
        ])  # fmt: skip
        customers.update({c.tenant_id: c for c in new_customers})
        result.customers_created += len(new_customers)
    ids = [str(partner_center.field(r, "id") or "") for e in batch for r in e.subscriptions]
    existing = {
        s.microsoft_subscription_id: s
        for s in Subscription.objects.select_for_update().filter(partner=partner, microsoft_subscription_id__in=ids)
    }
    created: list[Subscription] = []
    updated: dict[int, Subscription] = {}
    changed_fields: set[str] = set()
    found: dict[int, Found] = {}
    for entry in batch:
        customer = customers[entry.tenant_id]
        for resource in entry.subscriptions:
            microsoft_id = str(partner_center.field(resource, "id") or "")
            status = str(partner_center.field(resource, "status") or "").lower()
            sub = existing.get(microsoft_id)
            if sub is None:
                if status not in IMPORTED_STATUSES or not microsoft_id:
                    result.skipped.append(f"subscription {microsoft_id or '?'}: {status or 'no status'} at Microsoft")
                else:
                    sub = existing[microsoft_id] = _new_subscription(partner, customer, resource)
                    created.append(sub)
                continue
            if sub.customer_id != customer.pk:
                result.skipped.append(f"subscription {microsoft_id}: belongs to another customer in the portal")
                continue
            heard_before = bool(sub.microsoft_status)
            kept = {"commitment_end_date": sub.commitment_end_date, "auto_renew_enabled": sub.auto_renew_enabled}
            changed = term_from_microsoft(sub, {"subscription": resource})
            if heard_before:  # what differs from then on is for staff to settle, not overwritten
                for name, value in kept.items():
                    setattr(sub, name, value)
                changed = [name for name in changed if name not in kept]
            if changed:
                updated[sub.pk] = sub
                changed_fields.update(changed)
            found[sub.pk] = differences_found(sub, resource, heard_before=heard_before)
    if created:
        Subscription.objects.bulk_create(created)
        audit_record_many(partner=partner, actor=actor, action="subscription.created", rows=[
            audit_row(s, {"product": s.product, "quantity": s.quantity, "unit_price": str(s.unit_price),
                          "source": "partner_center"})
            for s in created
        ])  # fmt: skip
        result.subscriptions_created += len(created)
    if updated:
        Subscription.objects.bulk_update(list(updated.values()), sorted(changed_fields))
    result.subscriptions_updated += len(updated)
    result.differences_found += differences_record(
        partner=partner, sync_id=sync_id, checked=list(found), found={pk: f for pk, f in found.items() if f}
    )
