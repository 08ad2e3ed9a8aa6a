"""Collections: the partner's daily run, the notices it sends and the holds staff grant.

What each step means (the due step, grace days, the minimum, promises to pay, exemptions, suspension
scope, reactivation) is in docs/architecture.md, "Collections", and in billing.collections.rules,
which the pages share.

Guarantees: one run per partner at a time (a lease row per partner, CollectionLease, taken with a
conditional UPDATE and renewed before each batch; a second run at the same moment records a `skipped`
run; a crashed run's lease lapses after LEASE_TTL). The run works a batch of customers at a time, each
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
writes nothing. Elsewhere (SQLite) the same rules run per batch in Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.collections.models import (
    ACTION_RANK,
    DEFAULT_STEPS,
    CollectionLease,
    CollectionPolicy,
    CollectionRun,
    CollectionStep,
    CustomerCollections,
    CustomerDunning,
    InvoiceDunning,
    Notice,
)
from billing.collections.rules import DunningState, due_step, dunning_decision
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
from billing.invoicing.models import ZERO, Invoice, InvoiceLine, is_past_due
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
LEASE_TTL = dt.timedelta(minutes=10)  # a run renews its lease before each batch; a crashed run's lapses
LEASE_FREE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # locked_until of a lease nobody holds
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
    audit_rows: dict[str, list[AuditRow]] = field(default_factory=lambda: defaultdict(list))  # by action

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


class LeaseLost(RuntimeError):
    """The run's lease lapsed and another run may have taken the partner: this one stops."""


def _lease_take(partner: Partner, owner: str) -> bool:
    """Take the partner's collections lease for LEASE_TTL, without waiting: True if this run has it.

    One conditional UPDATE (`locked_until <= now`), committed at once: of two runs at the same moment
    only one UPDATE matches the row. Works the same behind a transaction-pooling PgBouncer.
    """
    now = clock.now()
    CollectionLease.objects.bulk_create(
        [CollectionLease(partner=partner, locked_until=LEASE_FREE)], ignore_conflicts=True
    )
    taken = CollectionLease.objects.filter(partner=partner, locked_until__lte=now).update(
        locked_until=now + LEASE_TTL, owner=owner, taken_at=now
    )
    return taken == 1


def _runs_interrupted_close(partner: Partner) -> list[int]:
    """Close the partner's runs still `running` as failed, audited; their ids. Called by the run that
    has just taken the lease: a lease is free only when its run gave it back or stopped renewing it,
    so a run still `running` then had its worker killed (or lost its lease and stops at its next
    batch). Without this its row would say "running" for ever."""
    closed = []
    now = clock.now()
    for run in CollectionRun.objects.filter(partner=partner, status=CollectionRun.Status.RUNNING).order_by("pk"):
        message = "interrupted: the run stopped before it finished (its worker died); a later run did what was left"
        details = {**run.details, "errors": [*run.details.get("errors", []), message]}
        updated = CollectionRun.objects.filter(pk=run.pk, status=CollectionRun.Status.RUNNING).update(
            status=CollectionRun.Status.FAILED, finished_at=now, errors_count=F("errors_count") + 1, details=details
        )
        if updated:
            closed.append(run.pk)
            audit_record(
                partner=partner, action="collections.run_interrupted", target=run,
                data={"run_date": run.run_date.isoformat(), "started_at": run.started_at.isoformat()},
            )  # fmt: skip
    return closed


def _lease_renew(partner: Partner, owner: str) -> None:
    """Keep the lease for another LEASE_TTL; LeaseLost if it is no longer this run's."""
    renewed = CollectionLease.objects.filter(partner=partner, owner=owner, locked_until__gt=clock.now()).update(
        locked_until=clock.now() + LEASE_TTL
    )
    if renewed != 1:
        raise LeaseLost(f"the collections lease of partner {partner.pk} lapsed")


def _lease_release(partner: Partner, owner: str) -> None:
    CollectionLease.objects.filter(partner=partner, owner=owner).update(locked_until=LEASE_FREE, owner="")


def _open_invoices() -> Q:
    return Q(status__in=Invoice.OPEN_STATUSES, balance__gt=ZERO, due_date__isnull=False)


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
        partner=partner, suspension_source=COLLECTIONS_SOURCE, status__in=_SUSPENDED_BY_US
    )
    overdue = (
        Invoice.objects.overdue(run_date)
        .filter(_open_invoices(), customer_id=OuterRef("pk"))
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
            _lease_renew(partner, owner)
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


@dataclass(frozen=True)
class _Taken:
    """What a batch did for one customer (a row per customer, never per invoice)."""

    customer_id: int
    name: str
    currency: str
    overdue_total: Decimal
    notice_ids: list[int]
    suspend: bool  # an invoice reached the suspension step
    reason: str


# How the batch statement tells "no final notice yet" apart from a number of days (a key must not be NULL).
_NO_FINAL = -99999
_RANK_SQL = "CASE {0} WHEN 'remind' THEN 1 WHEN 'final_notice' THEN 2 WHEN 'suspend' THEN 3 ELSE 0 END"

# The batch's open invoices that may have a due step, with their customer's and their own dunning state.
_OPEN_SQL = """
    FROM {invoice} i
    JOIN {customer} c ON c.id = i.customer_id AND c.id > %(low)s AND c.id <= %(high)s AND c.id = ANY(%(due)s)
    LEFT JOIN {invoice_dunning} d
        ON d.invoice_id = i.id AND d.customer_id > %(low)s AND d.customer_id <= %(high)s
    LEFT JOIN {customer_dunning} cd
        ON cd.customer_id = i.customer_id AND cd.customer_id > %(low)s AND cd.customer_id <= %(high)s
    WHERE i.partner_id = %(partner)s AND i.customer_id > %(low)s AND i.customer_id <= %(high)s
      AND i.status = ANY(%(open)s) AND i.balance > 0 AND i.due_date <= %(cutoff)s
"""
_KEY_SQL = f"""
    LEAST(%(run_date)s::date - i.due_date,
          %(top)s + CASE WHEN %(top)s > 0 THEN %(grace)s + c.collections_extra_grace_days ELSE 0 END) AS k_days,
    %(grace)s + c.collections_extra_grace_days AS k_grace,
    COALESCE(d.harshest, '') AS k_harshest,
    COALESCE(%(run_date)s::date - d.final_notice_on, {_NO_FINAL}) AS k_final,
    COALESCE(cd.suspended, false) AS k_suspended,
    COALESCE(c.promise_to_pay_until < %(run_date)s::date, false) AS k_after_hold,
    c.collections_exempt AS k_exempt
"""

_SITUATIONS_SQL = (
    "SELECT DISTINCT "
    + _KEY_SQL
    + _OPEN_SQL
    + """
      AND NOT COALESCE(c.promise_to_pay_until >= %(run_date)s::date, false)
      AND %(run_date)s::date - i.due_date
          >= %(first)s + CASE WHEN %(first)s > 0 THEN %(grace)s + c.collections_extra_grace_days ELSE 0 END
"""
)

_BATCH_SQL = """
WITH inv AS (
    SELECT i.id, i.customer_id, i.due_date, i.balance, i.currency,
           %(run_date)s::date - i.due_date AS days,
           COALESCE(c.promise_to_pay_until >= %(run_date)s::date, false) AS paused,
           %(run_date)s::date - i.due_date
               >= %(first)s + CASE WHEN %(first)s > 0 THEN %(grace)s + c.collections_extra_grace_days ELSE 0 END
               AS has_step,
           d.final_notice_on, d.step_offset AS last_offset, COALESCE(d.step_action, '') AS last_action,
           c.promise_to_pay_until AS promise,
           {key_columns}
    {open_invoices}
),
overdue AS (  -- the overdue total of each customer in each currency: the minimum is per currency
    SELECT customer_id, currency, SUM(balance) AS total FROM inv WHERE due_date < %(run_date)s::date GROUP BY 1, 2
),
customer_overdue AS (
    SELECT customer_id, SUM(total) AS total FROM overdue GROUP BY 1
),
decisions AS (
    SELECT * FROM unnest(%(d_days)s::int[], %(d_grace)s::int[], %(d_harshest)s::text[], %(d_final)s::int[],
                         %(d_suspended)s::bool[], %(d_after_hold)s::bool[], %(d_exempt)s::bool[],
                         %(d_step_offset)s::int[], %(d_step_action)s::text[], %(d_next_action)s::text[],
                         %(d_next_days)s::int[], %(d_reason)s::text[])
        AS t(k_days, k_grace, k_harshest, k_final, k_suspended, k_after_hold, k_exempt,
             step_offset, step_action, next_action, next_days, reason)
),
judged AS (
    SELECT inv.id, inv.customer_id, inv.due_date, inv.balance, inv.days, inv.final_notice_on,
           inv.k_harshest AS harshest, inv.last_offset, inv.last_action,
           t.step_offset, t.step_action, t.next_action, t.next_days,
           t.step_action IS NOT NULL AND t.step_offset > 0
               AND COALESCE(o.total, 0) < COALESCE(m.minimum, %(min_amount)s) AS below_minimum,
           t.reason
    FROM inv
    JOIN decisions t USING (k_days, k_grace, k_harshest, k_final, k_suspended, k_after_hold, k_exempt)
    LEFT JOIN overdue o ON o.customer_id = inv.customer_id AND o.currency = inv.currency
    LEFT JOIN unnest(%(m_currency)s::text[], %(m_amount)s::numeric[]) AS m(currency, minimum)
        ON m.currency = inv.currency
    WHERE inv.has_step AND NOT inv.paused
),
taken AS (
    SELECT * FROM judged WHERE step_action IS NOT NULL AND NOT below_minimum
),
fresh AS (  -- a step the invoice did not have last: the only rows written
    SELECT * FROM taken WHERE last_offset IS DISTINCT FROM step_offset OR last_action <> step_action
),
notices AS (
    INSERT INTO {notice} (partner_id, customer_id, invoice_id, run_id, offset_days, action, amount_due,
                          overdue_total, days_overdue, next_action, next_action_date, status, recipient,
                          attempts, created_at, error, message_id, earlier_message_ids)
    SELECT %(partner)s, f.customer_id, f.id, %(run)s, f.step_offset, f.step_action, f.balance,
           COALESCE(co.total, 0), f.days, f.next_action, %(run_date)s::date + f.next_days, 'pending', '',
           0, %(now)s, '', '', '[]'::jsonb
    FROM fresh f LEFT JOIN customer_overdue co ON co.customer_id = f.customer_id
    WHERE NOT (f.step_action = 'suspend' AND f.harshest = 'suspend')  -- told once: no second suspension notice
    ORDER BY f.customer_id, f.due_date, f.id
    ON CONFLICT (invoice_id, offset_days, action) DO NOTHING
    RETURNING id, customer_id
),
states AS (  -- the harshest step only ever goes up; the final notice's day is kept
    INSERT INTO {invoice_dunning} (partner_id, customer_id, invoice_id, harshest, final_notice_on, step_offset,
                                   step_action, updated_at)
    SELECT %(partner)s, customer_id, id,
           CASE WHEN {rank_step} > {rank_harshest} THEN step_action ELSE harshest END,
           COALESCE(final_notice_on, CASE WHEN step_action = 'final_notice' THEN %(run_date)s::date END),
           step_offset, step_action, %(now)s
    FROM fresh
    ON CONFLICT (invoice_id) DO UPDATE SET harshest = EXCLUDED.harshest, final_notice_on = EXCLUDED.final_notice_on,
        step_offset = EXCLUDED.step_offset, step_action = EXCLUDED.step_action, updated_at = EXCLUDED.updated_at
),
summary_rows AS (  -- where each customer of the batch stands, for the overview (CustomerCollections)
    SELECT inv.customer_id,
           COALESCE(SUM(inv.balance) FILTER (WHERE inv.due_date < %(run_date)s::date), 0) AS total,
           COUNT(*) FILTER (WHERE inv.due_date < %(run_date)s::date) AS n,
           MIN(inv.due_date) FILTER (WHERE inv.due_date < %(run_date)s::date) AS oldest,
           MAX(GREATEST({rank_inv}, {rank_fresh})) AS step_rank,
           MIN(%(run_date)s::date + j.next_days) AS next_on
    FROM inv LEFT JOIN judged j ON j.id = inv.id LEFT JOIN fresh f ON f.id = inv.id
    GROUP BY inv.customer_id
),
by_currency AS (
    SELECT customer_id, jsonb_object_agg(currency, total::text) AS amounts FROM overdue GROUP BY customer_id
),
summary AS (
    INSERT INTO {summary} (partner_id, customer_id, run_date, overdue_total, overdue_by_currency, overdue_count,
                           oldest_overdue, step, next_action_on, updated_at)
    SELECT %(partner)s, s.customer_id, %(run_date)s, s.total, COALESCE(b.amounts, '{{}}'::jsonb), s.n, s.oldest,
           CASE s.step_rank WHEN 1 THEN 'remind' WHEN 2 THEN 'final_notice' WHEN 3 THEN 'suspend' ELSE '' END,
           s.next_on, %(now)s
    FROM summary_rows s LEFT JOIN by_currency b ON b.customer_id = s.customer_id
    ON CONFLICT (customer_id) DO UPDATE SET run_date = EXCLUDED.run_date, overdue_total = EXCLUDED.overdue_total,
        overdue_by_currency = EXCLUDED.overdue_by_currency, overdue_count = EXCLUDED.overdue_count,
        oldest_overdue = EXCLUDED.oldest_overdue, step = EXCLUDED.step, next_action_on = EXCLUDED.next_action_on,
        updated_at = EXCLUDED.updated_at
    WHERE ({summary}.overdue_total, {summary}.overdue_by_currency, {summary}.overdue_count, {summary}.oldest_overdue,
           {summary}.step, {summary}.next_action_on)
          IS DISTINCT FROM (EXCLUDED.overdue_total, EXCLUDED.overdue_by_currency, EXCLUDED.overdue_count,
                            EXCLUDED.oldest_overdue, EXCLUDED.step, EXCLUDED.next_action_on)
),
summary_gone AS (  -- customers of the batch no longer in reach of the policy, unless suspended by collections
    DELETE FROM {summary} g
    WHERE g.partner_id = %(partner)s AND g.customer_id > %(low)s AND g.customer_id <= %(high)s
      AND g.customer_id = ANY(%(due)s) AND g.customer_id NOT IN (SELECT customer_id FROM inv)
      AND NOT EXISTS (SELECT 1 FROM {subscription} s WHERE s.customer_id = g.customer_id
                      AND s.suspension_source = %(source)s AND s.status = ANY(%(suspended_by_us)s))
),
per_customer AS (
    SELECT customer_id,
           bool_or(step_action = 'suspend' AND NOT below_minimum) AS suspend,
           bool_or(below_minimum) AS below_minimum,
           (array_agg(reason ORDER BY due_date, id) FILTER (WHERE step_action IS NULL AND reason <> ''))[1] AS reason
    FROM judged GROUP BY customer_id
),
paused AS (
    SELECT DISTINCT customer_id FROM inv WHERE paused AND has_step
),
made AS (
    SELECT customer_id, array_agg(id ORDER BY id) AS ids FROM notices GROUP BY customer_id
),
later AS (  -- open invoices not in reach of the policy yet: the day the earliest comes into it
    SELECT i.customer_id, MIN(i.due_date) - %(lead)s AS on_day
    FROM {invoice} i
    WHERE i.partner_id = %(partner)s AND i.customer_id > %(low)s AND i.customer_id <= %(high)s
      AND i.customer_id = ANY(%(due)s) AND i.status = ANY(%(open)s) AND i.balance > 0 AND i.due_date > %(cutoff)s
    GROUP BY 1
),
soon AS (  -- in reach: the day an invoice falls overdue (totals change), reaches its first step, or a promise ends
    SELECT customer_id,
           LEAST(MIN(due_date + 1) FILTER (WHERE due_date >= %(run_date)s::date),
                 MIN(due_date + %(first)s + CASE WHEN %(first)s > 0 THEN k_grace ELSE 0 END) FILTER (WHERE NOT has_step),
                 MIN(promise + 1) FILTER (WHERE paused)) AS on_day
    FROM inv GROUP BY 1
),
ahead AS (  -- the next step of each invoice the policy acts on, as the decisions give it
    SELECT customer_id, MIN(%(run_date)s::date + next_days) AS on_day FROM judged GROUP BY 1
),
rechecks AS (  -- when the run next has something to decide for each customer it looked at
    INSERT INTO {customer_dunning} (partner_id, customer_id, suspended, updated_at, recheck_on, checked_on,
                                    at_suspension, seen_policy, seen_exempt, seen_extra_grace, seen_promise)
    SELECT %(partner)s, c.id, false, %(now)s,
           COALESCE(LEAST(l.on_day, s.on_day, a.on_day), %(never)s::date), %(run_date)s, COALESCE(pc.suspend, false),
           %(policy_key)s, c.collections_exempt, c.collections_extra_grace_days, c.promise_to_pay_until
    FROM {customer} c
    LEFT JOIN later l ON l.customer_id = c.id
    LEFT JOIN soon s ON s.customer_id = c.id
    LEFT JOIN ahead a ON a.customer_id = c.id
    LEFT JOIN per_customer pc ON pc.customer_id = c.id
    WHERE c.partner_id = %(partner)s AND c.id > %(low)s AND c.id <= %(high)s AND c.id = ANY(%(due)s)
    ON CONFLICT (customer_id) DO UPDATE SET recheck_on = EXCLUDED.recheck_on, checked_on = EXCLUDED.checked_on,
        at_suspension = EXCLUDED.at_suspension, seen_policy = EXCLUDED.seen_policy,
        seen_exempt = EXCLUDED.seen_exempt, seen_extra_grace = EXCLUDED.seen_extra_grace,
        seen_promise = EXCLUDED.seen_promise
)
SELECT c.id, c.name, c.currency, COALESCE(co.total, 0), COALESCE(made.ids, '{{}}'), COALESCE(pc.suspend, false),
       CASE WHEN pz.customer_id IS NOT NULL THEN 'promise_to_pay'
            WHEN pc.below_minimum THEN 'below_minimum'
            ELSE COALESCE(pc.reason, '') END
FROM (SELECT customer_id FROM per_customer UNION SELECT customer_id FROM paused) k
JOIN {customer} c ON c.id = k.customer_id AND c.id > %(low)s AND c.id <= %(high)s  -- the batch's range only
LEFT JOIN per_customer pc ON pc.customer_id = k.customer_id
LEFT JOIN paused pz ON pz.customer_id = k.customer_id
LEFT JOIN made ON made.customer_id = k.customer_id
LEFT JOIN customer_overdue co ON co.customer_id = k.customer_id
WHERE made.ids IS NOT NULL OR pc.suspend OR pz.customer_id IS NOT NULL OR pc.below_minimum OR pc.reason IS NOT NULL
ORDER BY c.id
"""


def _tables() -> dict[str, str]:
    return {
        "invoice": Invoice._meta.db_table, "customer": Customer._meta.db_table, "notice": Notice._meta.db_table,
        "invoice_dunning": InvoiceDunning._meta.db_table, "customer_dunning": CustomerDunning._meta.db_table,
        "summary": CustomerCollections._meta.db_table, "subscription": Subscription._meta.db_table,
    }  # fmt: skip


def _decide(steps: list[CollectionStep], situations: Iterable[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """rules.dunning_decision for each distinct situation of the batch (not for each invoice), as
    the arrays the batch statement joins its invoices to."""
    columns: dict[str, list[Any]] = defaultdict(list)
    for days, grace, harshest, final_days, suspended, after_hold, exempt in situations:
        state = DunningState(
            harshest=harshest, final_notice_days_ago=None if final_days == _NO_FINAL else final_days,
            suspended=suspended, after_hold=after_hold, exempt=exempt,
        )  # fmt: skip
        decision = dunning_decision(steps, days, grace_days=grace, state=state)
        step, ahead = decision.step, decision.ahead
        for name, value in (
            ("days", days), ("grace", grace), ("harshest", harshest), ("final", final_days),
            ("suspended", suspended), ("after_hold", after_hold), ("exempt", exempt),
            ("step_offset", step.offset_days if step else None), ("step_action", step.action if step else None),
            ("next_action", ahead[0].action if ahead else ""), ("next_days", ahead[1] if ahead else None),
            ("reason", decision.reason),
        ):  # fmt: skip
            columns[f"d_{name}"].append(value)
    return columns


# The partner's customers the run has something to decide for today, in one statement: never looked
# at, due by their recheck day, looked at for a later day (a run for an earlier date), under another
# policy or other terms than now, or at the suspension step with a subscription it could still suspend.
# Each condition is a branch of its own read through an index (CustomerDunning's, the customers' with
# terms of their own, the suspendable subscriptions'), so a run with nothing new reads no row of the
# partner's customers: only index entries, and of those the customers never looked at (an anti-join of
# two index-only scans) and the ones at the suspension step against the suspendable subscriptions.
_DUE_SQL = """
SELECT c.id FROM {customer} c
WHERE c.partner_id = %(partner)s
  AND NOT EXISTS (SELECT 1 FROM {customer_dunning} cd WHERE cd.customer_id = c.id)
  -- looked for only when the partner has more customers than dunning rows (two index-only counts)
  AND (SELECT COUNT(*) FROM {customer} WHERE partner_id = %(partner)s)
      > (SELECT COUNT(*) FROM {customer_dunning} WHERE partner_id = %(partner)s)
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND recheck_on IS NULL
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND recheck_on <= %(run_date)s
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND checked_on > %(run_date)s
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND seen_policy < %(policy_key)s
UNION
SELECT customer_id FROM {customer_dunning} WHERE partner_id = %(partner)s AND seen_policy > %(policy_key)s
UNION
SELECT k.id FROM (  -- terms of their own now, or when the run saw them: compared one customer at a time
    SELECT id FROM {customer}
    WHERE partner_id = %(partner)s
      AND (collections_exempt OR collections_extra_grace_days > 0 OR promise_to_pay_until IS NOT NULL)
    UNION
    SELECT customer_id FROM {customer_dunning}
    WHERE partner_id = %(partner)s
      AND (seen_exempt OR seen_exempt IS NULL OR seen_extra_grace > 0 OR seen_extra_grace IS NULL
           OR seen_promise IS NOT NULL)
) k
CROSS JOIN LATERAL (
    SELECT 1 FROM {customer} c JOIN {customer_dunning} cd ON cd.customer_id = c.id
    WHERE c.id = k.id AND (cd.seen_exempt IS DISTINCT FROM c.collections_exempt
                           OR cd.seen_extra_grace IS DISTINCT FROM c.collections_extra_grace_days
                           OR cd.seen_promise IS DISTINCT FROM c.promise_to_pay_until)
    LIMIT 1
) changed
UNION
SELECT cd.customer_id FROM {customer_dunning} cd
WHERE cd.partner_id = %(partner)s AND cd.at_suspension AND EXISTS (
    SELECT 1 FROM {subscription} s
    WHERE s.partner_id = %(partner)s AND s.customer_id = cd.customer_id AND s.status IN ({suspendable}))
ORDER BY 1
"""


def _policy_key(policy: CollectionPolicy, steps: Iterable[CollectionStep]) -> str:
    """A fingerprint of what the run's decisions depend on in the policy: a change makes every customer due."""
    shape = {
        "min": str(policy.min_amount), "mins": {c: str(a) for c, a in sorted((policy.min_amounts or {}).items())},
        "grace": policy.grace_days, "scope": policy.suspend_scope,
        "steps": [(s.offset_days, str(s.action)) for s in sorted(steps, key=lambda s: s.offset_days)],
    }  # fmt: skip
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def _due_customers(*, partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep],
                   run_date: dt.date) -> list[int]:  # fmt: skip
    """The ids of the customers the run has something to decide for on `run_date` (see _DUE_SQL)."""
    # The statuses written out, as in the suspendable subscriptions' partial index, which the planner
    # matches only against the same literal list.
    suspendable = ", ".join(f"'{status}'" for status in _SUSPENDABLE)
    sql = _DUE_SQL.format(**_tables(), suspendable=suspendable)
    params: dict[str, Any] = {"partner": partner.pk, "run_date": run_date, "policy_key": _policy_key(policy, steps)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _due_batches(due: list[int]) -> Iterable[tuple[int, int | None, list[int]]]:
    """The due customers in batches of BATCH_SIZE: (low, high] and their ids."""
    low = 0
    for start in range(0, len(due), BATCH_SIZE):
        ids = due[start : start + BATCH_SIZE]
        yield low, ids[-1], ids
        low = ids[-1]


def _chase_batch(*, partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep], run: CollectionRun,
                 run_date: dt.date, low: int, high: int | None, due: list[int] | None = None) -> list[_Taken]:  # fmt: skip
    """Two statements for a batch of customers, whatever its number of invoices: the distinct
    situations, then the notices and dunning states written, the day each customer is due again,
    and a row per customer of what was done. Only the customers of `due` in (low, high]."""
    offsets = [s.offset_days for s in steps]
    lead = max([-o for o in offsets] + [0])
    params: dict[str, Any] = {
        "partner": partner.pk, "low": low, "high": high if high is not None else 2**62, "run": run.pk,
        "open": list(Invoice.OPEN_STATUSES), "run_date": run_date, "now": clock.now(),
        "cutoff": run_date + dt.timedelta(days=lead), "lead": lead, "never": CustomerDunning.NEVER_AGAIN,
        "policy_key": _policy_key(policy, steps), "due": due if due is not None else [],
        "top": max(offsets), "first": min(offsets), "grace": policy.grace_days, "min_amount": policy.min_amount,
        "m_currency": list((policy.min_amounts or {}).keys()),
        "m_amount": [Decimal(v) for v in (policy.min_amounts or {}).values()],
        "source": COLLECTIONS_SOURCE, "suspended_by_us": list(_SUSPENDED_BY_US),
    }  # fmt: skip
    tables = _tables()
    with connection.cursor() as cursor:
        cursor.execute(_SITUATIONS_SQL.format(**tables), params)
        situations = cursor.fetchall()
        decisions = _decide(steps, situations)
        for name in ("days", "grace", "harshest", "final", "suspended", "after_hold", "exempt", "step_offset",
                     "step_action", "next_action", "next_days", "reason"):  # fmt: skip
            params[f"d_{name}"] = decisions.get(f"d_{name}", [])
        sql = _BATCH_SQL.format(
            key_columns=_KEY_SQL,
            open_invoices=_OPEN_SQL.format(**tables),
            rank_step=_RANK_SQL.format("step_action"),
            rank_harshest=_RANK_SQL.format("harshest"),
            rank_inv=_RANK_SQL.format("inv.k_harshest"),
            rank_fresh=_RANK_SQL.format("f.step_action"),
            **tables,
        )
        # The planner cannot estimate the join to the decisions (seven columns of an array) and would
        # nest loops over thousands of rows; hash joins are right at any batch size. For this
        # transaction only (SET LOCAL), so it holds behind a transaction-pooling PgBouncer too.
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(sql, params)
        taken = [_Taken(*row) for row in cursor.fetchall()]
        cursor.execute("RESET enable_nestloop")
        return taken


def _chase_batch_portable(*, partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep],
                          run: CollectionRun, run_date: dt.date, low: int, high: int | None) -> list[_Taken]:  # fmt: skip
    """The same batch on a database without the statement above (SQLite, development): the same
    rules per invoice in Python, three queries per batch."""
    invoices = Invoice.objects.filter(_open_invoices(), partner=partner, customer_id__gt=low)
    if high is not None:
        invoices = invoices.filter(customer_id__lte=high)
    rows = invoices.order_by("customer_id", "due_date", "pk").values_list(
        "pk", "due_date", "balance", "currency", "customer_id", "customer__name", "customer__currency",
        "customer__collections_exempt", "customer__collections_extra_grace_days", "customer__promise_to_pay_until",
        "customer__dunning__suspended", "dunning__harshest", "dunning__final_notice_on", "dunning__step_offset",
        "dunning__step_action",
    )  # fmt: skip
    by_customer: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_customer[row[4]].append(row)
    notices: list[Notice] = []
    states: list[InvoiceDunning] = []
    found: dict[int, dict[str, Any]] = {}
    summaries: list[CustomerCollections | None] = []
    cutoff = run_date + dt.timedelta(days=max([-s.offset_days for s in steps] + [0]))
    for customer_id, invoice_rows in by_customer.items():
        _pk, _due, _bal, _cur, _cid, name, currency, exempt, extra, promise, suspended, *_rest = invoice_rows[0]
        overdue_by_currency: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for row in invoice_rows:
            if is_past_due(row[1], run_date):
                overdue_by_currency[row[3]] += row[2]
        total = sum(overdue_by_currency.values(), ZERO)
        grace = policy.grace_days + extra
        paused = promise is not None and promise >= run_date
        after_hold = promise is not None and promise < run_date
        entry: dict[str, Any] = {"name": name, "currency": currency, "total": total, "suspend": False, "reason": ""}
        next_on: dt.date | None = None
        for pk, due, balance, invoice_currency, *_c, harshest, final_on, last_offset, last_action in invoice_rows:
            days = (run_date - due).days
            if due_step(steps, days, grace_days=grace) is None:
                continue
            if paused:
                entry["reason"] = "promise_to_pay"
                break
            state = DunningState(
                harshest=harshest or "", final_notice_days_ago=(run_date - final_on).days if final_on else None,
                suspended=bool(suspended), after_hold=after_hold, exempt=exempt,
            )  # fmt: skip
            decision = dunning_decision(steps, days, grace_days=grace, state=state)
            step, ahead = decision.step, decision.ahead
            if ahead is not None:
                on = run_date + dt.timedelta(days=ahead[1])
                next_on = min(next_on, on) if next_on else on
            if step is None:
                entry["reason"] = entry["reason"] or decision.reason
                continue
            if step.offset_days > 0 and overdue_by_currency[invoice_currency] < policy.minimum_for(invoice_currency):
                entry["reason"] = "below_minimum"
                continue
            entry["suspend"] = entry["suspend"] or step.action == CollectionStep.Action.SUSPEND
            if (last_offset, last_action) == (step.offset_days, step.action):
                continue  # the step it had last: nothing to write
            states.append(InvoiceDunning(
                partner=partner, customer_id=customer_id, invoice_id=pk,
                harshest=max((harshest or "", step.action), key=lambda a: ACTION_RANK.get(a, 0)),
                final_notice_on=final_on or (run_date if step.action == CollectionStep.Action.FINAL_NOTICE else None),
                step_offset=step.offset_days, step_action=step.action, updated_at=clock.now(),
            ))  # fmt: skip
            if step.action == CollectionStep.Action.SUSPEND and harshest == CollectionStep.Action.SUSPEND:
                continue  # told once: a suspension asked again sends no second notice
            notices.append(Notice(
                partner=partner, customer_id=customer_id, invoice_id=pk, run=run, offset_days=step.offset_days,
                action=step.action, amount_due=balance, overdue_total=total, days_overdue=days,
                next_action=ahead[0].action if ahead else "",
                next_action_date=run_date + dt.timedelta(days=ahead[1]) if ahead else None,
            ))  # fmt: skip
        found[customer_id] = entry
        summaries.append(_summary_portable(partner, customer_id, invoice_rows, states, overdue_by_currency,
                                           next_on, run_date, cutoff))  # fmt: skip
    _summaries_save(partner, [x for x in summaries if x is not None], low, high)
    Notice.objects.bulk_create(notices, ignore_conflicts=True, batch_size=500)
    InvoiceDunning.objects.bulk_create(
        states, update_conflicts=True, unique_fields=["invoice"], batch_size=500,
        update_fields=["harshest", "final_notice_on", "step_offset", "step_action", "updated_at"],
    )  # fmt: skip
    made: dict[int, list[int]] = defaultdict(list)
    if notices:
        for customer_id, pk in Notice.objects.filter(run=run, customer_id__in=found).order_by("pk").values_list(
            "customer_id", "pk"
        ):  # fmt: skip
            made[customer_id].append(pk)
    return [
        _Taken(pk, e["name"], e["currency"], e["total"], made[pk], e["suspend"], e["reason"])
        for pk, e in sorted(found.items())
        if made[pk] or e["suspend"] or e["reason"]
    ]


def _summary_portable(partner: Partner, customer_id: int, invoice_rows: list[tuple[Any, ...]],
                      states: list[InvoiceDunning], overdue_by_currency: dict[str, Decimal], next_on: dt.date | None,
                      run_date: dt.date, cutoff: dt.date) -> CustomerCollections | None:  # fmt: skip
    """The customer's CustomerCollections row as the batch statement computes it (None: out of reach)."""
    in_reach = [row for row in invoice_rows if row[1] <= cutoff]
    if not in_reach:
        return None
    overdue = [row for row in in_reach if is_past_due(row[1], run_date)]
    ids = {row[0] for row in in_reach}
    actions = [row[11] or "" for row in in_reach] + [s.harshest for s in states if s.invoice_id in ids]
    return CustomerCollections(
        partner=partner, customer_id=customer_id, run_date=run_date, overdue_total=sum(overdue_by_currency.values(), ZERO),
        overdue_by_currency={c: str(a) for c, a in sorted(overdue_by_currency.items())}, overdue_count=len(overdue),
        oldest_overdue=min((row[1] for row in overdue), default=None),
        step=max(actions, key=lambda a: ACTION_RANK.get(a, 0), default=""), next_action_on=next_on,
        updated_at=clock.now(),
    )  # fmt: skip


def _collections_suspended_customers(*, partner_id: int) -> Any:
    """The partner's customers with a subscription suspended by collections (or its suspension asked):
    the overview keeps them, owing or not, until they are reactivated."""
    suspended = Subscription.objects.filter(
        partner_id=partner_id, suspension_source=COLLECTIONS_SOURCE, status__in=_SUSPENDED_BY_US
    )
    return suspended.order_by().values("customer_id")


def _summaries_save(partner: Partner, summaries: list[CustomerCollections], low: int, high: int | None) -> None:
    gone = CustomerCollections.objects.filter(partner=partner, customer_id__gt=low)
    if high is not None:
        gone = gone.filter(customer_id__lte=high)
    gone.exclude(customer_id__in=[x.customer_id for x in summaries]).exclude(
        customer_id__in=_collections_suspended_customers(partner_id=partner.pk)
    ).delete()
    fields = ["overdue_total", "overdue_by_currency", "overdue_count", "oldest_overdue", "step", "next_action_on"]
    kept = {
        row[0]: row[1:] for row in gone.filter(customer_id__in=[x.customer_id for x in summaries]).values_list(
            "customer_id", *fields
        )
    }  # fmt: skip
    changed = [x for x in summaries if kept.get(x.customer_id) != tuple(getattr(x, f) for f in fields)]
    CustomerCollections.objects.bulk_create(
        changed, update_conflicts=True, unique_fields=["customer"], batch_size=500,
        update_fields=["run_date", "overdue_total", "overdue_by_currency", "overdue_count", "oldest_overdue", "step",
                       "next_action_on", "updated_at"],
    )  # fmt: skip


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
        batches = _due_batches(_due_customers(partner=partner, policy=policy, steps=steps, run_date=run_date))
    else:
        batches = ((low, high, None) for low, high in _customer_ranges(partner))
    for low, high, due in batches:
        if owner:
            _lease_renew(partner, owner)
        with transaction.atomic():
            if due is not None:
                taken = _chase_batch(partner=partner, policy=policy, steps=steps, run=run, run_date=run_date,
                                     low=low, high=high, due=due)  # fmt: skip
            else:
                taken = _chase_batch_portable(partner=partner, policy=policy, steps=steps, run=run, run_date=run_date,
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
    candidates = Subscription.objects.filter(partner=partner, customer_id__in=to_suspend, status__in=_SUSPENDABLE)
    if policy.suspend_scope == CollectionPolicy.SuspendScope.OVERDUE_INVOICES:
        overdue = Invoice.objects.filter(_open_invoices(), partner=partner, customer_id__in=to_suspend,
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
    if not _lease_take(partner, owner):
        return CollectionRun.objects.create(
            partner=partner, run_date=run_date, status=CollectionRun.Status.SKIPPED, triggered_by=triggered_by,
            actor=actor, finished_at=clock.now(),
            details={"customers": [], "errors": [], "note": "another run of this partner was in progress"},
        )  # fmt: skip
    run: CollectionRun | None = None
    outcome = _Outcome()
    try:
        _runs_interrupted_close(partner)
        policy = collection_policy_get(partner=partner)
        steps = list(policy.steps.all())
        run = CollectionRun.objects.create(partner=partner, run_date=run_date, triggered_by=triggered_by, actor=actor)
        # The customers with something to decide today (PostgreSQL): both passes look at those only.
        due = (
            _due_customers(partner=partner, policy=policy, steps=steps, run_date=run_date)
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
        _lease_release(partner, owner)


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
            _collections_suspended_customers(partner_id=partner.pk)
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
    "collections_customers_changed",
    "collections_run",
    "collections_run_all",
    "customer_collections_hold",
]
