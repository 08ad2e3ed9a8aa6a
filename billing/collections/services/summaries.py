"""What customers owe, kept on their CustomerCollections rows between two runs: every write that changes a
customer's open balances rewrites its row at once (registered with invoicing in billing.apps)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from typing import Any

from billing.collections.models import (
    DEFAULT_STEPS,
    CollectionPolicy,
    CollectionStep,
    CustomerCollections,
    CustomerDunning,
)
from billing.collections.services.batch import COLLECTIONS_SOURCE, SUSPENDED_BY_US
from billing.invoicing.models import ZERO, Invoice, is_past_due
from partner_portal import clock
from partner_portal.models import Customer, Partner
from subscriptions.models import Subscription


def collections_suspended_customers(*, partner_id: int) -> Any:
    """The partner's customers with a subscription suspended by collections (or its suspension asked):
    the overview keeps them, owing or not, until they are reactivated."""
    suspended = Subscription.objects.filter(
        partner_id=partner_id, suspension_source=COLLECTIONS_SOURCE, status__in=SUSPENDED_BY_US
    )
    return suspended.order_by().values("customer_id")


def collections_customers_changed(*, customer_ids: Collection[int]) -> None:
    """The customers' open balances changed (an invoice issued or voided, a payment, a credit note):
    the next run looks at them again, whatever day it had them down for. One UPDATE, in the caller's
    transaction; registered with invoicing in billing.apps."""
    CustomerDunning.objects.filter(customer_id__in=list(customer_ids), recheck_on__isnull=False).update(recheck_on=None)
    _summaries_refresh(customer_ids=customer_ids)


def _summaries_refresh(*, customer_ids: Collection[int]) -> None:
    """What the customers owe, written to their CustomerCollections rows at once (the overview lists
    and orders customers by these rows): a row per customer with an open invoice in the policy's reach
    today, its overdue figures as of today; the step and next action stay as the last run decided
    them; a customer suspended by collections keeps its row while it owes nothing (the overview lists
    it until it is reactivated). Four queries per partner (usually one partner), in the caller's
    transaction."""
    by_partner: dict[int, list[int]] = defaultdict(list)
    for pk, partner_id in Customer.objects.filter(pk__in=list(customer_ids)).values_list("pk", "partner_id"):
        by_partner[partner_id].append(pk)
    for partner in Partner.objects.filter(pk__in=by_partner):
        ids = by_partner[partner.pk]
        today = clock.today(partner.time_zone)
        offsets = list(CollectionStep.objects.filter(policy__partner=partner).values_list("offset_days", flat=True))
        if not offsets and not CollectionPolicy.objects.filter(partner=partner).exists():
            offsets = [o for o, _a in DEFAULT_STEPS]  # the default policy, never saved
        lead = max([-o for o in offsets] + [0])
        rows = (
            Invoice.objects.open()
            .filter(customer_id__in=ids, balance__gt=0, due_date__lte=today + dt.timedelta(days=lead))
            .values_list("customer_id", "due_date", "balance", "currency")
        )
        owed: dict[int, dict[str, Any]] = {}
        for customer_id, due, balance, currency in rows:
            entry = owed.setdefault(customer_id, {"by_currency": defaultdict(lambda: ZERO), "count": 0, "oldest": None})
            if due is not None and is_past_due(due, today):
                entry["by_currency"][currency] += balance
                entry["count"] += 1
                entry["oldest"] = due if entry["oldest"] is None else min(entry["oldest"], due)
        for customer_id in (
            collections_suspended_customers(partner_id=partner.pk)
            .filter(customer_id__in=ids)
            .values_list("customer_id", flat=True)
        ):
            # Suspended by collections: listed, owing nothing now, until it is reactivated.
            owed.setdefault(customer_id, {"by_currency": {}, "count": 0, "oldest": None})
        CustomerCollections.objects.filter(customer_id__in=ids).exclude(customer_id__in=owed).delete()
        CustomerCollections.objects.bulk_create(
            [
                CustomerCollections(
                    partner=partner, customer_id=customer_id, run_date=today,
                    overdue_total=sum(e["by_currency"].values(), ZERO),
                    overdue_by_currency={c: str(a) for c, a in sorted(e["by_currency"].items())},
                    overdue_count=e["count"], oldest_overdue=e["oldest"], updated_at=clock.now(),
                )
                for customer_id, e in owed.items()
            ],
            update_conflicts=True, unique_fields=["customer"],
            update_fields=["overdue_total", "overdue_by_currency", "overdue_count", "oldest_overdue", "updated_at"],
        )  # fmt: skip
