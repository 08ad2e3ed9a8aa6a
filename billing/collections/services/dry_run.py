"""What the next collections run would do, without doing it.

The dry run is the real run (`collections_run`) inside a transaction that is always rolled back: the
same rules, the same queries, the same lease, so it cannot disagree with the run. What the run wrote
(its notices and the subscription changes it asked for) is read inside the transaction and copied
out before the rollback. Emails, broker messages and Partner Center calls are all scheduled with
`transaction.on_commit`, so the rollback discards them: nothing leaves the portal. The rows' ids are
consumed (sequences do not roll back); nothing else remains.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Max

from billing.collections.models import CollectionRun, Notice
from billing.collections.services.run import COLLECTIONS_SOURCE, collections_run
from partner_portal.models import Partner, User
from subscriptions.models import SubscriptionChange


@dataclass(frozen=True)
class DryRunNotice:
    customer_id: int
    customer: str
    invoice_id: int
    invoice_number: str
    action: str
    action_label: str
    offset_days: int
    days_overdue: int
    amount_due: Decimal
    currency: str


@dataclass(frozen=True)
class DryRunChange:
    customer_id: int
    customer: str
    subscription_id: int
    subscription: str
    wanted: str
    wanted_label: str


@dataclass
class DryRun:
    run_date: dt.date
    status: str  # CollectionRun.Status: done, skipped (another run held the lease) or failed
    notices: list[DryRunNotice] = field(default_factory=list)
    changes: list[DryRunChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def suspensions(self) -> list[DryRunChange]:
        return [c for c in self.changes if c.wanted == SubscriptionChange.Wanted.SUSPENDED]

    @property
    def reactivations(self) -> list[DryRunChange]:
        return [c for c in self.changes if c.wanted == SubscriptionChange.Wanted.ACTIVE]


class _RollBack(Exception):
    """Raised to leave the dry run's transaction: everything the run wrote is undone."""


def _what_it_did(run: CollectionRun, partner: Partner, changes_after: int) -> DryRun:
    notices = (
        Notice.objects.filter(partner=partner, run=run)
        .select_related("customer", "invoice")
        .order_by("customer__name", "customer_id", "invoice__due_date", "invoice_id", "offset_days")
    )
    changes = (
        SubscriptionChange.objects.filter(partner=partner, source=COLLECTIONS_SOURCE, pk__gt=changes_after)
        .select_related("subscription__customer")
        .order_by("subscription__customer__name", "subscription__customer_id", "subscription_id")
    )
    details = run.details if isinstance(run.details, dict) else {}
    return DryRun(
        run_date=run.run_date,
        status=run.status,
        notices=[
            DryRunNotice(
                customer_id=n.customer_id,
                customer=n.customer.name,
                invoice_id=n.invoice_id,
                invoice_number=n.invoice.number,
                action=n.action,
                action_label=n.get_action_display(),
                offset_days=n.offset_days,
                days_overdue=n.days_overdue,
                amount_due=n.amount_due,
                currency=n.invoice.currency,
            )
            for n in notices
        ],
        changes=[
            DryRunChange(
                customer_id=c.subscription.customer_id,
                customer=c.subscription.customer.name,
                subscription_id=c.subscription_id,
                subscription=str(c.subscription),
                wanted=c.wanted_status,
                wanted_label=c.get_wanted_status_display(),
            )
            for c in changes
        ],
        errors=[str(e) for e in details.get("errors", [])],
    )


def collections_dry_run(*, partner: Partner, run_date: dt.date, actor: User | None = None) -> DryRun:
    """The notices, suspensions and reactivations the partner's run for `run_date` would make, now.

    Runs `collections_run` in a transaction that is rolled back (see the module docstring): changes
    nothing, sends nothing. `status` is `skipped` while another run holds the partner's lease.
    """
    result: DryRun | None = None
    try:
        with transaction.atomic():
            changes_after = SubscriptionChange.objects.filter(partner=partner).aggregate(last=Max("pk"))["last"] or 0
            run = collections_run(
                partner=partner, run_date=run_date, actor=actor, triggered_by=CollectionRun.Trigger.PAGE
            )
            result = _what_it_did(run, partner, changes_after)
            raise _RollBack
    except _RollBack:
        pass
    assert result is not None  # noqa: S101 - set just before the rollback
    return result
