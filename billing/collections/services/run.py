"""Collections: the partner's daily run, the notices it sends and the holds staff grant.

What each step means (the due step, grace days, the minimum, promises to pay, exemptions, suspension
scope, reactivation) is in docs/architecture.md, "Collections", and in billing.collections.rules,
which the pages share.

Guarantees: one run per partner at a time (lease.py: a second run at the same moment records a
`skipped` run; a crashed run's lease lapses after LEASE_TTL). The run works a batch of customers at a time, each
batch its own short transaction: a crash loses at most the batch it was in, and a run again after it
does what was left. Each (invoice, step) has one Notice (unique constraint, inserted with
ON CONFLICT DO NOTHING), each emailed after commit by a worker that first claims it with a
conditional UPDATE, so running ten times a day, on two workers, never sends one twice; each
subscription change is asked once, because only active (or collections-suspended) subscriptions are
asked for and the subscriptions app refuses a second open change.

Set-based (PostgreSQL): per batch one query reads the distinct dunning situations of the batch's
open invoices (days overdue, grace, harshest step, …), `rules.dunning_decision` decides each
situation once in Python, and one statement joins the invoices to those decisions and writes the
notices and the invoices' dunning state (INSERT … SELECT). An invoice whose due step is the one it
last had (InvoiceDunning.step_offset/step_action) is not written again, so a run again the same day
writes nothing (the statements and the due customers: batch.py). Elsewhere (SQLite) the same rules
run per batch in Python (portable.py). What customers owe between runs: summaries.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.collections.models import (
    CollectionPolicy,
    CollectionRun,
    CollectionStep,
    CustomerDunning,
    Notice,
)
from billing.collections.services.batch import (
    COLLECTIONS_SOURCE,
    SUSPENDABLE,
    SUSPENDED_BY_US,
    chase_batch,
    due_customers,
    open_invoices,
)
from billing.collections.services.lease import (
    lease_release,
    lease_renew,
    lease_take,
    runs_interrupted_close,
)
from billing.collections.services.notices import (
    MAX_SEND_ATTEMPTS,
    SEND_CLAIM_STALE_AFTER,
    collection_notice_mark_sent,
    collection_notice_message,
    collection_notice_send,
    collection_notice_send_again,
    collection_notices_send,
    notices_uncertain_mark,
)
from billing.collections.services.policy import (
    StepInput,
    collection_policy_get,
    collection_policy_update,
    customer_collections_hold,
)
from billing.collections.services.portable import chase_batch_portable
from billing.invoicing.models import ZERO, Invoice, InvoiceLine
from partner_portal import clock
from partner_portal.audit import AuditRow, audit_record, audit_record_many
from partner_portal.jobs import for_each_partner
from partner_portal.models import Customer, Partner, User
from subscriptions.models import Subscription
from subscriptions.services import subscriptions_status_request_many

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000  # customers per batch (and transaction): every query of the run is per batch, never per invoice
NOTICE_TASK_CHUNK = 500  # notices per send task: one broker message per chunk, never one per notice
DETAILS_LIMIT = 1000  # per-customer outcomes kept in CollectionRun.details


# --- The run --------------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    notices_queued: int = 0
    suspensions: int = 0
    reactivations: int = 0
    customers: list[dict[str, Any]] = field(default_factory=list)
    truncated: int = 0
    audit_rows: dict[str, list[AuditRow]] = field(default_factory=lambda: defaultdict(list))  # by action

    def note(self, entry: dict[str, Any]) -> None:
        if len(self.customers) < DETAILS_LIMIT:
            self.customers.append(entry)
        else:
            self.truncated += 1


def _audit_row(*, customer_id: int, customer_name: str, data: dict[str, Any]) -> AuditRow:
    """An audit event about a customer, written with the batch's others (`_flush_audit`)."""
    return AuditRow(Customer._meta.label_lower, str(customer_id), customer_name[:200], customer_id, data)


def _flush_audit(outcome: _Outcome, *, partner: Partner, actor: User | None) -> None:
    """Write the batch's audit events (one INSERT per action) inside the batch's transaction."""
    for action, rows in outcome.audit_rows.items():
        audit_record_many(partner=partner, action=action, actor=actor, rows=rows)
    outcome.audit_rows.clear()


def _status_request(*, partner: Partner, subscription_ids: list[int], wanted: str, reason: str,
                    actor: User | None) -> int:  # fmt: skip
    """Ask the subscriptions app for the changes (pushed to Partner Center after commit); how many were made."""
    if not subscription_ids:
        return 0
    return subscriptions_status_request_many(
        partner=partner, subscription_ids=subscription_ids, wanted=wanted, reason=reason, actor=actor,
        source=COLLECTIONS_SOURCE,
    )  # fmt: skip


def _reactivate(*, partner: Partner, policy: CollectionPolicy, run_date: dt.date, actor: User | None,
                outcome: _Outcome, owner: str = "", only: list[int] | None = None) -> set[int]:  # fmt: skip
    """Release the customers whose collections suspension no longer holds, a batch of customers at a
    time, each batch in its own transaction; the ids released. With `only` (the customers due today,
    ascending), only those are looked at: a suspension is released by a payment, a credit note, a
    promise to pay, an exemption or a lower minimum, and each of these makes the customer due."""
    suspended = Subscription.objects.filter(
        partner=partner, suspension_source=COLLECTIONS_SOURCE, status__in=SUSPENDED_BY_US
    )
    overdue = (
        Invoice.objects.overdue(run_date)
        .filter(open_invoices(), customer_id=OuterRef("pk"))
        .values("customer_id")
        .annotate(total=Sum("balance"))
        .values("total")
    )
    released: set[int] = set()
    if only is not None:
        # The due customers with a collections suspension, read once: the suspended customers are a
        # few thousand at most, the due ones up to all of the partner's.
        held = set(suspended.order_by().values_list("customer_id", flat=True).distinct())
        wanted = [pk for pk in only if pk in held]
        batches: Iterable[list[int]] = [wanted[i : i + BATCH_SIZE] for i in range(0, len(wanted), BATCH_SIZE)]
    else:
        batches = _suspended_batches(suspended)
    for ids in batches:
        if owner:
            lease_renew(partner, owner)
        with transaction.atomic():
            released |= _release(partner=partner, policy=policy, run_date=run_date, actor=actor, outcome=outcome,
                                 ids=ids, suspended=suspended, overdue=overdue)  # fmt: skip
            _flush_audit(outcome, partner=partner, actor=actor)
    return released


def _suspended_batches(suspended: Any) -> Iterable[list[int]]:
    """The customers of the collections-suspended subscriptions, BATCH_SIZE at a time, by id."""
    last = 0
    while True:
        ids = list(
            suspended.filter(customer_id__gt=last).order_by("customer_id").values_list("customer_id", flat=True)
            .distinct()[:BATCH_SIZE]
        )  # fmt: skip
        if not ids:
            return
        yield ids
        last = ids[-1]


def _release(*, partner: Partner, policy: CollectionPolicy, run_date: dt.date, actor: User | None,
             outcome: _Outcome, ids: list[int], suspended: Any, overdue: Any) -> set[int]:  # fmt: skip
    """Reactivate the customers of `ids` whose collections suspension no longer holds; their ids."""
    customers = (
        Customer.objects.filter(pk__in=ids)
        .annotate(
            overdue_total=Coalesce(
                Subquery(overdue), Value(ZERO), output_field=DecimalField(max_digits=16, decimal_places=2)
            )
        )
        .values_list("pk", "name", "currency", "collections_exempt", "promise_to_pay_until", "overdue_total")
    )
    released: dict[int, tuple[str, str, Decimal, str]] = {}  # id -> name, currency, overdue total, why
    for pk, name, currency, exempt, promise, overdue_total in customers:
        why = (
            "promise_to_pay" if promise is not None and promise >= run_date
            else "exempt" if exempt
            else "paid" if overdue_total < policy.minimum_for(currency)
            else ""
        )  # fmt: skip
        if why:
            released[pk] = (name, currency, overdue_total, why)
    if not released:
        return set()
    rows = list(suspended.filter(customer_id__in=released).values_list("customer_id", "pk"))
    count = _status_request(
        partner=partner, subscription_ids=[pk for _c, pk in rows], wanted=Subscription.Status.ACTIVE,
        reason=_("Overdue balance settled: reactivated by the collections run of %(date)s.")
        % {"date": date_format(run_date)}, actor=actor,
    )  # fmt: skip
    outcome.reactivations += count
    _customers_suspended(partner=partner, customer_ids=set(released), suspended=False)
    per_customer: dict[int, int] = defaultdict(int)
    for customer_id, _pk in rows:
        per_customer[customer_id] += 1
    for customer_id, (name, currency, overdue_total, why) in released.items():
        outcome.note({
            "customer_id": customer_id, "customer": name, "overdue_total": str(overdue_total),
            "currency": currency, "notices": 0, "suspended": 0,
            "reactivated": per_customer[customer_id], "reason": why,
        })  # fmt: skip
        outcome.audit_rows["collections.reactivation_requested"].append(_audit_row(
            customer_id=customer_id, customer_name=name,
            data={"run_date": run_date.isoformat(), "reason": why, "subscriptions": per_customer[customer_id]},
        ))  # fmt: skip
    return set(released)


def _customer_ranges(partner: Partner) -> Iterable[tuple[int, int | None]]:
    """The partner's customers in id ranges (low, high] of BATCH_SIZE customers; high None: the rest.
    One query per range (the id that closes it), on the customer's primary key."""
    customers = Customer.objects.filter(partner=partner).order_by("pk").values_list("pk", flat=True)
    low = 0
    while True:
        edge = list(customers.filter(pk__gt=low)[BATCH_SIZE - 1 : BATCH_SIZE])
        high = edge[0] if edge else None
        yield low, high
        if high is None:
            return
        low = high


def _customers_suspended(*, partner: Partner, customer_ids: set[int], suspended: bool) -> None:
    """Record the customers as suspended by collections, or no longer; the next run looks at them again
    (a suspended customer is told nothing more, a released one can be chased). One UPDATE: the run has
    written each due customer's row already; the rows missing (a run on SQLite) are added."""
    if not customer_ids:
        return
    now = clock.now()
    ids = sorted(customer_ids)
    updated = CustomerDunning.objects.filter(customer_id__in=ids).update(
        suspended=suspended, updated_at=now, recheck_on=None
    )
    if updated == len(ids):
        return
    have = set(CustomerDunning.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True))
    CustomerDunning.objects.bulk_create(
        [CustomerDunning(partner=partner, customer_id=pk, suspended=suspended, updated_at=now, recheck_on=None)
         for pk in ids if pk not in have],
        ignore_conflicts=True,
    )  # fmt: skip


def _due_batches(due: list[int]) -> Iterable[tuple[int, int | None, list[int]]]:
    """The due customers in batches of BATCH_SIZE: (low, high] and their ids."""
    low = 0
    for start in range(0, len(due), BATCH_SIZE):
        ids = due[start : start + BATCH_SIZE]
        yield low, ids[-1], ids
        low = ids[-1]


def _chase(*, partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep], run: CollectionRun,
           run_date: dt.date, actor: User | None, outcome: _Outcome, owner: str = "",
           due: list[int] | None = None) -> None:  # fmt: skip
    """Write the due notices and ask for the due suspensions, a batch of customers at a time, each batch
    in its own transaction; the batch's notices go to the broker after its commit, in chunks. `due`:
    the customers with something to decide today, when the caller has read them."""
    if not steps:
        return
    batches: Iterable[tuple[int, int | None, list[int] | None]]
    if due is not None:
        batches = _due_batches(due)
    elif connection.vendor == "postgresql":  # only the customers with something to decide today
        batches = _due_batches(due_customers(partner=partner, policy=policy, steps=steps, run_date=run_date))
    else:
        batches = ((low, high, None) for low, high in _customer_ranges(partner))
    for low, high, due in batches:
        if owner:
            lease_renew(partner, owner)
        with transaction.atomic():
            if due is not None:
                taken = chase_batch(partner=partner, policy=policy, steps=steps, run=run, run_date=run_date,
                                     low=low, high=high, due=due)  # fmt: skip
            else:
                taken = chase_batch_portable(partner=partner, policy=policy, steps=steps, run=run, run_date=run_date,
                                              low=low, high=high)  # fmt: skip
            entries: dict[int, dict[str, Any]] = {}
            to_suspend: list[int] = []
            notice_ids: list[int] = []
            for row in taken:
                notice_ids.extend(row.notice_ids)
                entries[row.customer_id] = {
                    "customer_id": row.customer_id, "customer": row.name, "overdue_total": str(row.overdue_total),
                    "currency": row.currency, "notices": len(row.notice_ids), "suspended": 0, "reactivated": 0,
                    "reason": row.reason,
                }  # fmt: skip
                if row.suspend:
                    to_suspend.append(row.customer_id)
            if to_suspend:
                outcome.suspensions += _suspend(
                    partner=partner, policy=policy, run_date=run_date, actor=actor, to_suspend=to_suspend,
                    entries=entries, outcome=outcome,
                )  # fmt: skip
            _flush_audit(outcome, partner=partner, actor=actor)
            outcome.notices_queued += len(notice_ids)
            transaction.on_commit(partial(_dispatch, notice_ids))
        for entry in entries.values():
            if entry["notices"] or entry["suspended"] or entry["reason"]:
                outcome.note(entry)


def _suspend(*, partner: Partner, policy: CollectionPolicy, run_date: dt.date, actor: User | None,
             to_suspend: list[int], entries: dict[int, dict[str, Any]], outcome: _Outcome) -> int:  # fmt: skip
    """Ask for the suspension of the batch's customers that reached the suspension step; how many changes."""
    candidates = Subscription.objects.filter(partner=partner, customer_id__in=to_suspend, status__in=SUSPENDABLE)
    if policy.suspend_scope == CollectionPolicy.SuspendScope.OVERDUE_INVOICES:
        overdue = Invoice.objects.filter(open_invoices(), partner=partner, customer_id__in=to_suspend,
                                         due_date__lt=run_date)  # fmt: skip
        billed = InvoiceLine.objects.filter(invoice__in=overdue, subscription_id__isnull=False)
        candidates = candidates.filter(pk__in=billed.values("subscription_id"))
    rows = list(candidates.values_list("customer_id", "pk"))
    count = _status_request(
        partner=partner, subscription_ids=[pk for _c, pk in rows], wanted=Subscription.Status.SUSPENDED,
        reason=_("Overdue balance: suspended by the collections run of %(date)s.") % {"date": date_format(run_date)},
        actor=actor,
    )  # fmt: skip
    for customer_id, _pk in rows:
        entries[customer_id]["suspended"] += 1
    _customers_suspended(partner=partner, customer_ids={customer_id for customer_id, _pk in rows}, suspended=True)
    for customer_id in to_suspend:
        entry = entries[customer_id]
        if not entry["suspended"]:
            continue  # nothing left to suspend: asked before, or nothing billed on the overdue invoices
        outcome.audit_rows["collections.suspension_requested"].append(_audit_row(
            customer_id=customer_id, customer_name=entry["customer"],
            data={"run_date": run_date.isoformat(), "scope": policy.suspend_scope, "subscriptions": entry["suspended"]},
        ))  # fmt: skip
    return count


def _notices_left_over(partner: Partner) -> list[int]:
    """Notices an earlier run made that still wait: failed ones with attempts left and pending ones
    whose message was lost (older than a claim's lapse). What this run made went to the broker after
    each batch; a pending notice of a few minutes is on its way already. Claims of dead workers are
    not resent: they become `uncertain` for staff to decide (the email may have left)."""
    notices_uncertain_mark(partner_id=partner.pk)
    stale = clock.now() - SEND_CLAIM_STALE_AFTER
    return list(
        Notice.objects.filter(partner=partner)
        .filter(
            Q(status=Notice.Status.PENDING, created_at__lt=stale)
            | Q(status=Notice.Status.FAILED, attempts__lt=MAX_SEND_ATTEMPTS)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _dispatch(notice_ids: list[int]) -> None:
    """One broker message per NOTICE_TASK_CHUNK notices; each notice is claimed before it is sent,
    so a message delivered twice, or a notice in two messages, is emailed once."""
    from billing.collections.tasks import collection_notices_send_task  # tasks import the services

    for start in range(0, len(notice_ids), NOTICE_TASK_CHUNK):
        chunk = notice_ids[start : start + NOTICE_TASK_CHUNK]
        # The message's header names the chunk instead of Celery's repr of every id (cheaper to make,
        # and a log line a person can read).
        collection_notices_send_task.apply_async(
            kwargs={"notice_ids": chunk}, kwargsrepr=f"{{'notice_ids': {len(chunk)} ids, {chunk[0]}..{chunk[-1]}}}"
        )


def collections_run(
    *, partner: Partner, run_date: dt.date, actor: User | None = None, triggered_by: str = "schedule"
) -> CollectionRun:
    """Run the partner's collections for `run_date`: notices, suspensions and reactivations.

    Idempotent and batched (see the module docstring): running again the same day, on two workers at
    once or after a crash does each thing once. Emails and Partner Center calls happen after each
    batch's commit. Returns the CollectionRun: `done`, `skipped` (another run held the partner's
    lease) or `failed` (the batch that failed changed nothing; the error is in `details["errors"]`).
    """
    owner = uuid.uuid4().hex
    if not lease_take(partner, owner):
        return CollectionRun.objects.create(
            partner=partner, run_date=run_date, status=CollectionRun.Status.SKIPPED, triggered_by=triggered_by,
            actor=actor, finished_at=clock.now(),
            details={"customers": [], "errors": [], "note": "another run of this partner was in progress"},
        )  # fmt: skip
    run: CollectionRun | None = None
    outcome = _Outcome()
    try:
        runs_interrupted_close(partner)
        policy = collection_policy_get(partner=partner)
        steps = list(policy.steps.all())
        run = CollectionRun.objects.create(partner=partner, run_date=run_date, triggered_by=triggered_by, actor=actor)
        # The customers with something to decide today (PostgreSQL): both passes look at those only.
        due = (
            due_customers(partner=partner, policy=policy, steps=steps, run_date=run_date)
            if steps and connection.vendor == "postgresql"
            else None
        )
        if policy.reactivate_automatically:
            _reactivate(
                partner=partner, policy=policy, run_date=run_date, actor=actor, outcome=outcome, owner=owner, only=due
            )
        _chase(
            partner=partner, policy=policy, steps=steps, run=run, run_date=run_date, actor=actor, outcome=outcome,
            owner=owner, due=due,
        )  # fmt: skip
        with transaction.atomic():
            run.status, run.finished_at = CollectionRun.Status.DONE, clock.now()
            run.suspensions_requested, run.reactivations_requested = outcome.suspensions, outcome.reactivations
            run.details = {
                "customers": outcome.customers, "truncated": outcome.truncated, "errors": [],
                "notices_queued": outcome.notices_queued,
            }  # fmt: skip
            run.save(update_fields=["status", "finished_at", "suspensions_requested", "reactivations_requested",
                                    "details"])  # fmt: skip
            audit_record(
                partner=partner, actor=actor, action="collections.run_finished", target=run,
                data={"run_date": run_date.isoformat(), "notices": outcome.notices_queued,
                      "suspensions": outcome.suspensions, "reactivations": outcome.reactivations},
            )  # fmt: skip
            transaction.on_commit(partial(_dispatch, _notices_left_over(partner)))
        return run
    except Exception as exc:
        logger.exception("collections run of partner %s for %s failed", partner.pk, run_date)
        failed = {
            "status": CollectionRun.Status.FAILED, "finished_at": clock.now(), "errors_count": 1,
            "suspensions_requested": outcome.suspensions, "reactivations_requested": outcome.reactivations,
            "details": {"customers": outcome.customers, "truncated": outcome.truncated,
                        "notices_queued": outcome.notices_queued, "errors": [f"{type(exc).__name__}: {exc}"]},
        }  # fmt: skip
        if run is None:
            return CollectionRun.objects.create(
                partner=partner, run_date=run_date, triggered_by=triggered_by, actor=actor, **failed
            )
        for name, value in failed.items():
            setattr(run, name, value)
        run.save(update_fields=list(failed))
        return run
    finally:
        lease_release(partner, owner)


def collections_customer_recheck(*, customer: Customer, actor: User | None) -> None:
    """Money stopped paying the customer's invoices (a voided payment, a refund): after commit, run
    the partner's collections for today, so the customer's dunning state and suspension follow the
    reopened balances by the run's own rules. The run is idempotent, so a run today already is no harm."""
    from billing.collections.tasks import collections_run_task  # tasks import the services

    partner_id, actor_id = customer.partner_id, actor.pk if actor is not None else None
    transaction.on_commit(
        lambda: collections_run_task.delay(
            partner_id=partner_id, triggered_by=CollectionRun.Trigger.PAGE, actor_id=actor_id
        )
    )


def collections_run_all(
    *, run_date: dt.date | None = None, partner_slug: str | None = None, triggered_by: str = "schedule"
) -> list[tuple[Partner, CollectionRun]]:
    """Run every partner's collections (or the one named) for `run_date`, by default today in each
    partner's time zone, one partner after another; a failed run is recorded and stops no other."""
    return for_each_partner(
        lambda p: collections_run(partner=p, run_date=run_date or clock.today(p.time_zone), triggered_by=triggered_by),
        slug=partner_slug,
    )


__all__ = [
    "StepInput",
    "collection_notice_mark_sent",
    "collection_notice_message",
    "collection_notice_send",
    "collection_notice_send_again",
    "collection_notices_send",
    "collection_policy_get",
    "collection_policy_update",
    "collections_customer_recheck",
    "collections_run",
    "collections_run_all",
    "customer_collections_hold",
]
