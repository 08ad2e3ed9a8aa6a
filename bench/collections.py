"""The daily collections run at scale: one partner, 1,000,000 invoices (10 % open), 100,000 customers.

Run with `make bench` (PostgreSQL from DATABASE_URL); BENCH_INVOICES sets a smaller size. Seeds its
own partner ("collections-bench") once, set-based: customers in batches of 5,000, one subscription
for every tenth customer, then the invoices with one INSERT … SELECT per batch of customers — ten a
customer a month apart, the latest one open and due between 39 days ago and 10 days ahead, so every
step of the default policy has its share. The policy suspends all of a customer's subscriptions.

Measured on the same data, reset between them (notices, dunning state, subscription changes):
1. the previous algorithm: one transaction, Python objects per invoice, one broker message per 100
   notices and per subscription change (a copy of it lives only here: `naive_run`);
2. the raw-SQL lower bound: the one INSERT … SELECT of the notices the default steps call for, without
   minimums, holds, dunning state, suspensions or audit rows;
3. `collections_run`, first run, then the same run again (nothing new), straight after and once the
   tables it wrote are analysed (as autovacuum does before the next day's run).
Prints wall time, SQL statements and broker messages; the broker's queue is purged after each.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from celery.app.task import Task  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from billing.collections.models import (  # noqa: E402
    ACTION_RANK,
    CollectionLease,
    CollectionPolicy,
    CollectionRun,
    CollectionStep,
    CustomerDunning,
    InvoiceDunning,
    Notice,
)
from billing.collections.rules import DunningState, due_step, dunning_decision  # noqa: E402
from billing.collections.services import collection_policy_get, collections_run  # noqa: E402
from billing.invoicing.models import ZERO, Invoice, is_past_due  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from partner_portal.models import Customer, Partner  # noqa: E402
from subscriptions.models import Subscription, SubscriptionChange, SubscriptionStatusEvent  # noqa: E402
from subscriptions.services import status as subscription_status  # noqa: E402

INVOICES = int(os.environ.get("BENCH_INVOICES", "1000000"))
PER_CUSTOMER = 10  # invoices per customer, a month apart; the latest is open
CUSTOMERS = INVOICES // PER_CUSTOMER
SLUG = "collections-bench"
RUN_DATE = dt.date(2026, 12, 1)
BATCH = 5_000
_NAMESPACE = uuid.UUID("5c0d4a8e-2f61-4b7e-9a35-c1e2d3f4a5b6")


# --- Seeding ------------------------------------------------------------------------------------------


def seed() -> Partner:
    partner, _ = Partner.objects.get_or_create(slug=SLUG, defaults={"name": "Collections bench partner"})
    have = Customer.objects.filter(partner=partner).count()
    currencies = ("USD", "EUR", "GBP", "USD")
    for start in range(have, CUSTOMERS, BATCH):
        stop = min(start + BATCH, CUSTOMERS)
        with transaction.atomic():
            created = Customer.objects.bulk_create(
                Customer(
                    partner=partner, name=f"Customer {i:07d}", tenant_id=uuid.uuid5(_NAMESPACE, f"{SLUG}:{i}"),
                    domain=f"customer{i}.example", billing_email=f"accounts@customer{i}.example",
                    language=("en", "ru")[i % 2], currency=currencies[i % 4], credit_days=30,
                )
                for i in range(start, stop)
            )  # fmt: skip
            Subscription.objects.bulk_create(
                Subscription(
                    partner=partner,
                    customer=c,
                    product="Microsoft 365 Business Premium",
                    quantity=5,
                    unit_price=Decimal("22.00"),
                    start_date=dt.date(2025, 1, 1),
                )
                for n, c in enumerate(created, start)
                if n % 10 == 0
            )
            _seed_invoices(partner, low=created[0].pk - 1, high=created[-1].pk)
        print(f"  seeded {stop:,}/{CUSTOMERS:,} customers and their invoices", flush=True)
    with connection.cursor() as cursor:
        for table in ("partner_portal_customer", "billing_invoice", "subscriptions_subscription"):
            cursor.execute(f"ANALYZE {table}")
    policy = collection_policy_get(partner=partner)
    CollectionPolicy.objects.filter(pk=policy.pk).update(suspend_scope=CollectionPolicy.SuspendScope.ALL)
    return partner


def _seed_invoices(partner: Partner, *, low: int, high: int) -> None:
    """Ten invoices per customer of (low, high] in one INSERT … SELECT; the latest one open."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_invoice (partner_id, customer_id, number, status, currency, period, issue_date,
                due_date, subtotal, tax_total, total, amount_paid, amount_credited, balance, notes, created_at,
                issued_at, void_reason)
            SELECT %(partner)s, c.id, 'CB-' || c.id || '-' || k, CASE WHEN k = 0 THEN 'issued' ELSE 'paid' END,
                   c.currency, '', x.due - 30, x.due, x.amount, 0, x.amount,
                   CASE WHEN k = 0 THEN 0 ELSE x.amount END, 0, CASE WHEN k = 0 THEN x.amount ELSE 0 END,
                   '', now(), now(), ''
            FROM partner_portal_customer c
            CROSS JOIN generate_series(0, %(per)s - 1) AS k
            CROSS JOIN LATERAL (
                SELECT %(run_date)s::date + 10 - (c.id %% 50)::int - 30 * k AS due,
                       (100 + (c.id %% 7) * 10)::numeric(16, 2) AS amount
            ) x
            WHERE c.partner_id = %(partner)s AND c.id > %(low)s AND c.id <= %(high)s
            """,
            {"partner": partner.pk, "per": PER_CUSTOMER, "run_date": RUN_DATE, "low": low, "high": high},
        )


def reset(partner: Partner) -> None:
    """Back to before any run: no notices, dunning state or changes; subscriptions active (audit rows
    are append-only and stay)."""
    with transaction.atomic():
        for model in (Notice, InvoiceDunning, CustomerDunning, CollectionRun, CollectionLease,
                      SubscriptionStatusEvent, SubscriptionChange):  # fmt: skip
            model.objects.filter(partner=partner).delete()
        Subscription.objects.filter(partner=partner).update(status=Subscription.Status.ACTIVE, suspension_source="")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE billing_notice")
        cursor.execute("VACUUM ANALYZE billing_invoicedunning")


# --- Measuring ----------------------------------------------------------------------------------------


@contextmanager
def counted() -> Iterator[dict[str, int]]:
    """SQL statements on the default connection and messages handed to the broker."""
    counts = {"queries": 0, "messages": 0}

    def count_query(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        counts["queries"] += 1
        return execute(sql, params, many, context)

    original = Task.apply_async

    def count_message(self: Task, *args: Any, **kwargs: Any) -> Any:
        counts["messages"] += 1
        return original(self, *args, **kwargs)

    Task.apply_async = count_message  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(count_query):
            yield counts
    finally:
        Task.apply_async = original  # type: ignore[method-assign]
        try:
            celery_app.control.purge()
        except Exception as exc:  # noqa: BLE001 - a broker without purge keeps its messages
            print(f"  (broker not purged: {exc})")


def measure(label: str, fn: Callable[[], Any], partner: Partner) -> tuple[float, dict[str, int], int]:
    before = Notice.objects.filter(partner=partner).count()
    with counted() as counts:
        start = time.perf_counter()
        fn()
        wall = time.perf_counter() - start
    made = Notice.objects.filter(partner=partner).count() - before
    print(f"{label:<44} {wall:>8.2f} {counts['queries']:>9,} {counts['messages']:>9,} {made:>9,}", flush=True)
    return wall, counts, made


# --- Baseline 1: the previous algorithm (kept here only) -------------------------------------------


def naive_run(partner: Partner, run_date: dt.date) -> None:
    """The run as it was: one transaction, a Python object per invoice and per notice, every pending
    notice queued 100 to a message and every subscription change in a message of its own."""
    from billing.collections.tasks import collection_notices_send_task
    from subscriptions.tasks import subscription_change_push_task

    def push_one_by_one(change_ids: list[int]) -> None:
        transaction.on_commit(lambda: [subscription_change_push_task.delay(change_id=pk) for pk in change_ids])

    original_push, subscription_status._schedule_push = subscription_status._schedule_push, push_one_by_one
    try:
        with transaction.atomic():
            policy = collection_policy_get(partner=partner)
            steps = list(policy.steps.all())
            run = CollectionRun.objects.create(partner=partner, run_date=run_date, triggered_by="command")
            open_invoices = Invoice.objects.filter(
                partner=partner, status__in=Invoice.OPEN_STATUSES, balance__gt=ZERO, due_date__isnull=False
            )
            last = 0
            while True:
                ids = list(
                    open_invoices.filter(customer_id__gt=last).order_by("customer_id")
                    .values_list("customer_id", flat=True).distinct()[:500]
                )  # fmt: skip
                if not ids:
                    break
                last = ids[-1]
                _naive_batch(partner, policy, steps, run, run_date, open_invoices.filter(customer_id__in=ids))
            pending = list(Notice.objects.filter(partner=partner, status="pending").values_list("pk", flat=True))
            transaction.on_commit(
                lambda: [
                    collection_notices_send_task.delay(notice_ids=pending[i : i + 100])
                    for i in range(0, len(pending), 100)
                ]
            )
    finally:
        subscription_status._schedule_push = original_push


def _naive_batch(partner: Partner, policy: CollectionPolicy, steps: list[CollectionStep], run: CollectionRun,
                 run_date: dt.date, invoices: Any) -> None:  # fmt: skip
    rows = invoices.order_by("customer_id", "due_date", "pk").values_list(
        "pk", "due_date", "balance", "currency", "customer_id", "customer__collections_extra_grace_days",
        "customer__promise_to_pay_until", "customer__collections_exempt", "customer__dunning__suspended",
        "dunning__harshest", "dunning__final_notice_on",
    )  # fmt: skip
    by_customer: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_customer[row[4]].append(row)
    notices, states, to_suspend = [], [], []
    for customer_id, invoice_rows in by_customer.items():
        extra, promise, exempt, suspended = invoice_rows[0][5:9]
        overdue: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for row in invoice_rows:
            if is_past_due(row[1], run_date):
                overdue[row[3]] += row[2]
        total = sum(overdue.values(), ZERO)
        grace = policy.grace_days + extra
        if promise is not None and promise >= run_date:
            continue
        for pk, due, balance, currency, *_c, harshest, final_on in invoice_rows:
            days = (run_date - due).days
            if due_step(steps, days, grace_days=grace) is None:
                continue
            state = DunningState(
                harshest=harshest or "", final_notice_days_ago=(run_date - final_on).days if final_on else None,
                suspended=bool(suspended), after_hold=promise is not None and promise < run_date, exempt=exempt,
            )  # fmt: skip
            decision = dunning_decision(steps, days, grace_days=grace, state=state)
            step, ahead = decision.step, decision.ahead
            if step is None or (step.offset_days > 0 and overdue[currency] < policy.minimum_for(currency)):
                continue
            states.append(InvoiceDunning(
                partner=partner, customer_id=customer_id, invoice_id=pk,
                harshest=max((harshest or "", step.action), key=lambda a: ACTION_RANK.get(a, 0)),
                final_notice_on=final_on or (run_date if step.action == "final_notice" else None),
            ))  # fmt: skip
            if step.action == "suspend":
                to_suspend.append(customer_id)
            notices.append(Notice(
                partner=partner, customer_id=customer_id, invoice_id=pk, run=run, offset_days=step.offset_days,
                action=step.action, amount_due=balance, overdue_total=total, days_overdue=days,
                next_action=ahead[0].action if ahead else "",
                next_action_date=run_date + dt.timedelta(days=ahead[1]) if ahead else None,
            ))  # fmt: skip
    Notice.objects.bulk_create(notices, ignore_conflicts=True, batch_size=1000)
    InvoiceDunning.objects.bulk_create(
        states, update_conflicts=True, unique_fields=["invoice"], update_fields=["harshest", "final_notice_on"],
        batch_size=1000,
    )  # fmt: skip
    if to_suspend:
        subs = Subscription.objects.filter(partner=partner, customer_id__in=to_suspend, status="active")
        subscription_status.subscriptions_status_request(
            partner=partner, subscription_ids=list(subs.values_list("pk", flat=True)), wanted="suspended",
            reason="Overdue balance", actor=None, source="collections",
        )  # fmt: skip
        CustomerDunning.objects.bulk_create(
            [CustomerDunning(partner=partner, customer_id=c, suspended=True) for c in set(to_suspend)],
            update_conflicts=True, unique_fields=["customer"], update_fields=["suspended"],
        )  # fmt: skip


# --- Baseline 2: the raw-SQL lower bound -----------------------------------------------------------


def lower_bound(partner: Partner, run_date: dt.date) -> None:
    """Only the notices of the default steps, in one statement: what no run can beat."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_notice (partner_id, customer_id, invoice_id, offset_days, action, amount_due,
                overdue_total, days_overdue, next_action, status, recipient, attempts, created_at, error,
                message_id, earlier_message_ids)
            SELECT i.partner_id, i.customer_id, i.id, s.offset_days, s.action, i.balance, i.balance,
                   %(run_date)s::date - i.due_date, '', 'pending', '', 0, now(), '', '', '[]'::jsonb
            FROM billing_invoice i
            CROSS JOIN LATERAL (
                SELECT offset_days, action FROM billing_collectionstep
                WHERE partner_id = %(partner)s AND offset_days <= %(run_date)s::date - i.due_date
                ORDER BY offset_days DESC LIMIT 1
            ) s
            WHERE i.partner_id = %(partner)s AND i.status IN ('issued', 'partially_paid') AND i.balance > 0
            ON CONFLICT (invoice_id, offset_days, action) DO NOTHING
            """,
            {"partner": partner.pk, "run_date": run_date},
        )


def main() -> None:
    celery_app.conf.task_always_eager = False  # messages go to the broker, as in production
    print(f"database: {connection.vendor}; seeding {INVOICES:,} invoices of {CUSTOMERS:,} customers", flush=True)
    start = time.perf_counter()
    partner = seed()
    open_count = Invoice.objects.filter(partner=partner, status__in=Invoice.OPEN_STATUSES).count()
    print(f"seeded in {time.perf_counter() - start:.1f} s: {Invoice.objects.filter(partner=partner).count():,} "
          f"invoices, {open_count:,} open, {Subscription.objects.filter(partner=partner).count():,} subscriptions")  # fmt: skip
    print(f"{'run on ' + RUN_DATE.isoformat():<44} {'wall s':>8} {'queries':>9} {'messages':>9} {'notices':>9}")
    reset(partner)
    measure("previous algorithm (per invoice, one txn)", lambda: naive_run(partner, RUN_DATE), partner)
    reset(partner)
    measure("raw-SQL lower bound (notices only)", lambda: lower_bound(partner, RUN_DATE), partner)
    reset(partner)
    measure("collections_run, first run", lambda: collections_run(partner=partner, run_date=RUN_DATE), partner)
    measure("collections_run, again (nothing new)", lambda: collections_run(partner=partner, run_date=RUN_DATE),
            partner)  # fmt: skip
    # What the next day's run meets: autovacuum has analysed the rows the first run wrote.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_notice, billing_invoicedunning, billing_customerdunning, "
                       "billing_customercollections, subscriptions_subscription")  # fmt: skip
    measure("collections_run, again after ANALYZE", lambda: collections_run(partner=partner, run_date=RUN_DATE),
            partner)  # fmt: skip
    changes = SubscriptionChange.objects.filter(partner=partner).count()
    print(f"subscription changes asked by collections_run: {changes:,}")


if __name__ == "__main__":
    main()
