"""Collections: the partner's daily run, the notices it sends and the holds staff grant.

What each step means (the due step, grace days, the minimum, promises to pay, exemptions, suspension
scope, reactivation) is in docs/architecture.md, "Collections", and in billing.collections.rules,
which the pages share.

Guarantees: one run per partner at a time (a PostgreSQL advisory transaction lock; on SQLite the
IMMEDIATE transaction serialises writers), a second one at the same moment records a `skipped` run.
A run is one transaction: it happens entirely or, after a crash, not at all, and a run again after
it does what was left. Each (invoice, step) has one Notice (unique constraint, inserted with
ON CONFLICT DO NOTHING), each emailed after commit by a worker that first claims it with a
conditional UPDATE, so running ten times a day, on two workers, never sends one twice; each
subscription change is asked once, because only active (or collections-suspended) subscriptions are
asked for and the subscriptions app refuses a second open change. The run is set-based: a fixed number
of queries per batch of customers, not per invoice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from billing.collections.models import (
    ACTION_RANK,
    CollectionPolicy,
    CollectionRun,
    CollectionStep,
    CustomerDunning,
    InvoiceDunning,
    Notice,
)
from billing.collections.rules import DunningState, due_step, dunning_decision
from billing.collections.services.notices import (
    MAX_SEND_ATTEMPTS,
    SEND_CLAIM_STALE_AFTER,
    collection_notice_message,
    collection_notice_send,
    collection_notices_send,
)
from billing.collections.services.policy import (
    StepInput,
    collection_policy_get,
    collection_policy_update,
    customer_collections_hold,
)
from billing.invoicing.models import ZERO, Invoice, InvoiceLine, is_past_due
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.jobs import for_each_partner
from partner_portal.models import AuditEvent, Customer, Partner, User
from subscriptions.models import Subscription
from subscriptions.services import subscriptions_status_request

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # customers per batch: every query of the run is per batch, never per invoice
NOTICE_TASK_CHUNK = 100  # notices per send task
DETAILS_LIMIT = 1000  # per-customer outcomes kept in CollectionRun.details
# pg_try_advisory_xact_lock(class, partner id): the class key keeps our locks apart from others' ("Coll").
ADVISORY_LOCK_CLASS = 0x436F6C6C
COLLECTIONS_SOURCE = "collections"

# Reactivation-pending ones too: a customer released and overdue again is suspended again.
_SUSPENDABLE = (Subscription.Status.ACTIVE, Subscription.Status.REACTIVATION_PENDING)
_SUSPENDED_BY_US = (Subscription.Status.SUSPENDED, Subscription.Status.SUSPENSION_PENDING)


# --- The run --------------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    notices_queued: int = 0
    suspensions: int = 0
    reactivations: int = 0
    customers: list[dict[str, Any]] = field(default_factory=list)
    truncated: int = 0
    audit_rows: list[AuditEvent] = field(default_factory=list)

    def note(self, entry: dict[str, Any]) -> None:
        if len(self.customers) < DETAILS_LIMIT:
            self.customers.append(entry)
        else:
            self.truncated += 1


@dataclass(frozen=True)
class _OpenInvoice:
    pk: int
    due_date: dt.date
    balance: Decimal
    currency: str = ""
    harshest: str = ""  # InvoiceDunning: the harshest step so far and the day of its final notice
    final_notice_on: dt.date | None = None


@dataclass
class _CustomerRows:
    pk: int
    name: str
    currency: str
    exempt: bool
    extra_grace: int
    promise_until: dt.date | None
    suspended: bool = False  # CustomerDunning.suspended
    invoices: list[_OpenInvoice] = field(default_factory=list)


def _try_lock(partner: Partner) -> bool:
    """Take the partner's collections lock for the rest of the transaction, without waiting.

    PostgreSQL: an advisory transaction lock, released at commit or rollback (or when a crashed
    worker's connection goes). Elsewhere (SQLite) the IMMEDIATE transaction already holds the
    database's write lock, so runs queue one after another instead.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_CLASS, partner.pk])
        row = cursor.fetchone()
    return bool(row and row[0])


def _open_invoices() -> Q:
    return Q(status__in=Invoice.OPEN_STATUSES, balance__gt=ZERO, due_date__isnull=False)


def _audit_row(*, partner: Partner, customer_id: int, customer_name: str, action: str, actor: User | None,
               data: dict[str, Any]) -> AuditEvent:  # fmt: skip
    """An audit event built for a bulk insert (the run writes them per batch, not one by one)."""
    return AuditEvent(
        partner=partner, customer_id=customer_id, actor=actor if actor is not None and actor.is_authenticated else None,
        action=action, target_type="partner_portal.customer", target_id=str(customer_id),
        target_repr=customer_name[:200], data=data,
    )  # fmt: skip


def _status_request(*, partner: Partner, subscription_ids: list[int], wanted: str, reason: str,
                    actor: User | None) -> int:  # fmt: skip
    """Ask the subscriptions app for the changes (pushed to Partner Center after commit); how many were made."""
    if not subscription_ids:
        return 0
    changes = subscriptions_status_request(
        partner=partner, subscription_ids=subscription_ids, wanted=wanted, reason=reason, actor=actor,
        source=COLLECTIONS_SOURCE,
    )  # fmt: skip
    return len(changes)


def _reactivate(*, partner: Partner, policy: CollectionPolicy, run_date: dt.date, actor: User | None,
                outcome: _Outcome) -> None:  # fmt: skip
    """Release the customers whose collections suspension no longer holds, a batch of customers at a time."""
    suspended = Subscription.objects.filter(
        partner=partner, suspension_source=COLLECTIONS_SOURCE, status__in=_SUSPENDED_BY_US
    )
    overdue = (
        Invoice.objects.overdue(run_date)
        .filter(_open_invoices(), customer_id=OuterRef("pk"))
        .values("customer_id")
        .annotate(total=Sum("balance"))
        .values("total")
    )
    last = 0
    while True:
        ids = list(
            suspended.filter(customer_id__gt=last)
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
            .distinct()[:BATCH_SIZE]
        )
        if not ids:
            return
        last = ids[-1]
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
            continue
        rows = list(suspended.filter(customer_id__in=released).values_list("customer_id", "pk"))
        count = _status_request(
            partner=partner, subscription_ids=[pk for _c, pk in rows], wanted=Subscription.Status.ACTIVE,
            reason=_("Overdue balance settled: reactivated by the collections run of %(date)s.")
            % {"date": run_date.isoformat()}, actor=actor,
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
            outcome.audit_rows.append(_audit_row(
                partner=partner, customer_id=customer_id, customer_name=name, actor=actor,
                action="collections.reactivation_requested",
                data={"run_date": run_date.isoformat(), "reason": why, "subscriptions": per_customer[customer_id]},
            ))  # fmt: skip


def _customer_batches(partner: Partner, run_date: dt.date) -> Iterable[list[_CustomerRows]]:
    """The partner's customers with open invoices, in batches, each with all its open invoices.

    Two queries per batch: the next customer ids (keyset on the id), then their open invoices.
    """
    open_invoices = Invoice.objects.filter(_open_invoices(), partner=partner)
    last = 0
    while True:
        ids = list(
            open_invoices.filter(customer_id__gt=last)
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
            .distinct()[:BATCH_SIZE]
        )
        if not ids:
            return
        last = ids[-1]
        rows = open_invoices.filter(customer_id__in=ids).order_by("customer_id", "due_date", "pk").values_list(
            "pk", "due_date", "balance", "currency", "customer_id", "customer__name", "customer__currency",
            "customer__collections_exempt", "customer__collections_extra_grace_days", "customer__promise_to_pay_until",
            "customer__dunning__suspended", "dunning__harshest", "dunning__final_notice_on",
        )  # fmt: skip
        batch: dict[int, _CustomerRows] = {}
        for (
            pk,
            due,
            balance,
            invoice_currency,
            cid,
            name,
            currency,
            exempt,
            extra,
            promise,
            suspended,
            harshest,
            final_on,
        ) in rows:
            customer = batch.get(cid)
            if customer is None:
                customer = batch[cid] = _CustomerRows(cid, name, currency, exempt, extra, promise, bool(suspended))
            customer.invoices.append(  # open: never without a due date
                _OpenInvoice(pk, cast(dt.date, due), balance, invoice_currency, harshest or "", final_on)
            )
        yield list(batch.values())


def _state(invoice: _OpenInvoice, customer: _CustomerRows, run_date: dt.date, after_hold: bool) -> DunningState:
    final_on = invoice.final_notice_on
    return DunningState(
        harshest=invoice.harshest, final_notice_days_ago=(run_date - final_on).days if final_on else None,
        suspended=customer.suspended, after_hold=after_hold, exempt=customer.exempt,
    )  # fmt: skip


def _next_state(partner: Partner, customer_id: int, invoice: _OpenInvoice, action: str,
                run_date: dt.date) -> InvoiceDunning:  # fmt: skip
    """The invoice's dunning state once `action` is taken today: never milder than before."""
    harshest = max((invoice.harshest, action), key=lambda a: ACTION_RANK.get(a, 0))
    final_on = invoice.final_notice_on
    if final_on is None and action == CollectionStep.Action.FINAL_NOTICE:
        final_on = run_date
    return InvoiceDunning(
        partner=partner, customer_id=customer_id, invoice_id=invoice.pk, harshest=harshest, final_notice_on=final_on,
        updated_at=clock.now(),
    )  # fmt: skip


def _customers_suspended(*, partner: Partner, customer_ids: set[int], suspended: bool) -> None:
    """Record the customers as suspended by collections, or no longer (one upsert)."""
    if not customer_ids:
        return
    CustomerDunning.objects.bulk_create(
        [CustomerDunning(partner=partner, customer_id=pk, suspended=suspended, updated_at=clock.now())
         for pk in sorted(customer_ids)],
        update_conflicts=True, unique_fields=["customer"], update_fields=["suspended", "updated_at"],
    )  # fmt: skip


def _chase(*, partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep], run: CollectionRun,
           run_date: dt.date, actor: User | None, outcome: _Outcome) -> None:  # fmt: skip
    """Insert the due notices and ask for the due suspensions, a batch of customers at a time."""
    for batch in _customer_batches(partner, run_date):
        notices: list[Notice] = []
        states: list[InvoiceDunning] = []
        to_suspend: dict[int, list[int]] = {}  # customer id -> its overdue invoice ids
        entries: dict[int, dict[str, Any]] = {}
        for customer in batch:
            overdue_total = sum((i.balance for i in customer.invoices if is_past_due(i.due_date, run_date)), ZERO)
            entry: dict[str, Any] = {
                "customer_id": customer.pk, "customer": customer.name, "overdue_total": str(overdue_total),
                "currency": customer.currency, "notices": 0, "suspended": 0, "reactivated": 0, "reason": "",
            }  # fmt: skip
            grace = policy.grace_days + customer.extra_grace
            paused = customer.promise_until is not None and customer.promise_until >= run_date
            after_hold = customer.promise_until is not None and customer.promise_until < run_date
            # The minimum is compared in each invoice's currency, with the overdue total in that currency.
            overdue_by_currency: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for i in customer.invoices:
                if is_past_due(i.due_date, run_date):
                    overdue_by_currency[i.currency] += i.balance
            suspend = False
            for invoice in customer.invoices:
                days = (run_date - invoice.due_date).days
                if due_step(steps, days, grace_days=grace) is None:
                    continue
                if paused:
                    entry["reason"] = "promise_to_pay"
                    break
                decision = dunning_decision(steps, days, grace_days=grace, state=_state(invoice, customer, run_date,
                                                                                        after_hold))  # fmt: skip
                step, ahead = decision.step, decision.ahead
                if step is None:
                    entry["reason"] = entry["reason"] or decision.reason
                    continue
                below_minimum = overdue_by_currency[invoice.currency] < policy.minimum_for(invoice.currency)
                if step.offset_days > 0 and below_minimum:
                    entry["reason"] = "below_minimum"
                    continue
                states.append(_next_state(partner, customer.pk, invoice, step.action, run_date))
                if step.action == CollectionStep.Action.SUSPEND:
                    suspend = True
                    if invoice.harshest == CollectionStep.Action.SUSPEND:
                        continue  # told once: a suspension asked again sends no second notice
                notices.append(Notice(
                    partner=partner, customer_id=customer.pk, invoice_id=invoice.pk, run=run,
                    offset_days=step.offset_days, action=step.action, amount_due=invoice.balance,
                    overdue_total=overdue_total, days_overdue=days,
                    next_action=ahead[0].action if ahead else "",
                    next_action_date=run_date + dt.timedelta(days=ahead[1]) if ahead else None,
                ))  # fmt: skip
            if suspend:
                to_suspend[customer.pk] = [i.pk for i in customer.invoices if is_past_due(i.due_date, run_date)]
            entries[customer.pk] = entry
        # One INSERT ... ON CONFLICT DO NOTHING for the batch: a notice made before is not made again.
        Notice.objects.bulk_create(notices, ignore_conflicts=True, batch_size=1000)
        # One upsert of the invoices' dunning state: the harshest step only ever goes up.
        InvoiceDunning.objects.bulk_create(
            states, update_conflicts=True, unique_fields=["invoice"],
            update_fields=["harshest", "final_notice_on", "updated_at"], batch_size=1000,
        )  # fmt: skip
        if notices:  # which of them are new: the ones that carry this run
            made = Notice.objects.filter(run=run, customer_id__in=entries).values("customer_id").annotate(n=Count("pk"))
            for row in made:
                entries[row["customer_id"]]["notices"] = row["n"]
        if to_suspend:
            outcome.suspensions += _suspend(
                partner=partner, policy=policy, run_date=run_date, actor=actor, to_suspend=to_suspend,
                entries=entries, outcome=outcome,
            )  # fmt: skip
        for entry in entries.values():
            if entry["notices"] or entry["suspended"] or entry["reason"]:
                outcome.note(entry)


def _suspend(*, partner: Partner, policy: CollectionPolicy, run_date: dt.date, actor: User | None,
             to_suspend: dict[int, list[int]], entries: dict[int, dict[str, Any]], outcome: _Outcome) -> int:  # fmt: skip
    """Ask for the suspension of the batch's customers that reached the suspension step; how many changes."""
    candidates = Subscription.objects.filter(partner=partner, customer_id__in=to_suspend, status__in=_SUSPENDABLE)
    if policy.suspend_scope == CollectionPolicy.SuspendScope.OVERDUE_INVOICES:
        invoice_ids = [pk for ids in to_suspend.values() for pk in ids]
        billed = InvoiceLine.objects.filter(invoice_id__in=invoice_ids, subscription_id__isnull=False)
        candidates = candidates.filter(pk__in=billed.values("subscription_id"))
    rows = list(candidates.values_list("customer_id", "pk"))
    count = _status_request(
        partner=partner, subscription_ids=[pk for _c, pk in rows], wanted=Subscription.Status.SUSPENDED,
        reason=_("Overdue balance: suspended by the collections run of %(date)s.") % {"date": run_date.isoformat()},
        actor=actor,
    )  # fmt: skip
    for customer_id, _pk in rows:
        entries[customer_id]["suspended"] += 1
    _customers_suspended(partner=partner, customer_ids={customer_id for customer_id, _pk in rows}, suspended=True)
    for customer_id in to_suspend:
        entry = entries[customer_id]
        if not entry["suspended"]:
            continue  # nothing left to suspend: asked before, or nothing billed on the overdue invoices
        outcome.audit_rows.append(_audit_row(
            partner=partner, customer_id=customer_id, customer_name=entry["customer"], actor=actor,
            action="collections.suspension_requested",
            data={"run_date": run_date.isoformat(), "scope": policy.suspend_scope, "subscriptions": entry["suspended"]},
        ))  # fmt: skip
    return count


def _notices_to_send(partner: Partner) -> list[int]:
    """Notices waiting to go: new ones, failed ones with attempts left, and claims of dead workers."""
    stale = clock.now() - SEND_CLAIM_STALE_AFTER
    return list(
        Notice.objects.filter(partner=partner)
        .filter(
            Q(status=Notice.Status.PENDING)
            | Q(status=Notice.Status.FAILED, attempts__lt=MAX_SEND_ATTEMPTS)
            | Q(status=Notice.Status.SENDING, claimed_at__lt=stale)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _dispatch(notice_ids: list[int]) -> None:
    from billing.collections.tasks import collection_notices_send_task  # tasks import the services

    for start in range(0, len(notice_ids), NOTICE_TASK_CHUNK):
        collection_notices_send_task.delay(notice_ids=notice_ids[start : start + NOTICE_TASK_CHUNK])


def collections_run(
    *, partner: Partner, run_date: dt.date, actor: User | None = None, triggered_by: str = "schedule"
) -> CollectionRun:
    """Run the partner's collections for `run_date`: notices, suspensions and reactivations.

    Transactional and idempotent (see the module docstring): running again the same day, on two
    workers at once or after a crash does each thing once. Emails and Partner Center calls happen
    after commit. Returns the CollectionRun: `done`, `skipped` (another run held the partner's lock)
    or `failed` (nothing was changed; the error is in `details["errors"]`).
    """
    try:
        with transaction.atomic():
            if not _try_lock(partner):
                return CollectionRun.objects.create(
                    partner=partner, run_date=run_date, status=CollectionRun.Status.SKIPPED, triggered_by=triggered_by,
                    actor=actor, finished_at=clock.now(),
                    details={"customers": [], "errors": [], "note": "another run of this partner was in progress"},
                )  # fmt: skip
            policy = collection_policy_get(partner=partner)
            steps = list(policy.steps.all())
            run = CollectionRun.objects.create(
                partner=partner, run_date=run_date, triggered_by=triggered_by, actor=actor
            )
            outcome = _Outcome()
            if policy.reactivate_automatically:
                _reactivate(partner=partner, policy=policy, run_date=run_date, actor=actor, outcome=outcome)
            _chase(
                partner=partner, policy=policy, steps=steps, run=run, run_date=run_date, actor=actor, outcome=outcome
            )
            outcome.notices_queued = Notice.objects.filter(run=run).count()
            AuditEvent.objects.bulk_create(outcome.audit_rows, batch_size=1000)
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
            to_send = _notices_to_send(partner)
            transaction.on_commit(lambda: _dispatch(to_send))
            return run
    except Exception as exc:
        logger.exception("collections run of partner %s for %s failed", partner.pk, run_date)
        return CollectionRun.objects.create(
            partner=partner, run_date=run_date, status=CollectionRun.Status.FAILED, triggered_by=triggered_by,
            actor=actor, finished_at=clock.now(), errors_count=1,
            details={"customers": [], "errors": [f"{type(exc).__name__}: {exc}"]},
        )  # fmt: skip


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
    "collection_notice_message",
    "collection_notice_send",
    "collection_notices_send",
    "collection_policy_get",
    "collection_policy_update",
    "collections_customer_recheck",
    "collections_run",
    "collections_run_all",
    "customer_collections_hold",
]
