"""The collections run at scale: a fixed number of queries whatever the number of invoices, batches
committed on their own, one run per partner through the lease, notices and Partner Center pushes sent
to the broker in chunks, and a run again the same day that queues nothing."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from celery.app.task import Task
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from billing.collections.models import CollectionLease, CollectionRun, Notice
from billing.collections.services import collections_run
from billing.collections.services import lease as collections_lease
from billing.collections.services import run as collections_service
from partner_portal import clock
from subscriptions.models import SubscriptionChange
from tests.conftest import make_tenant, require
from tests.factories import CustomerFactory
from tests.factories.collections import DUE, invoice_due, policy, run_on
from tests.factories.subscriptions import SubscriptionFactory

NOW = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)
# Days overdue on DUE of the invoices made here: one at each step of the default policy (and past it).
SPREAD = (-3, 0, 7, 14, 21, 30, 45)


@pytest.fixture
def _fixed_clock() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """What is handed to the broker, by task name (the tasks still run, eagerly, as in every test)."""
    sent: Counter[str] = Counter()
    original = Task.apply_async

    def spy(self: Task, *args: object, **kwargs: object) -> object:
        sent[self.name.rsplit(".", 1)[-1]] += 1
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Task, "apply_async", spy)
    return sent


def _overdue_invoices(partner, customers: int, per_customer: int) -> None:
    for n in range(customers):
        customer = CustomerFactory(partner=partner)
        sub = SubscriptionFactory(customer=customer)
        for k in range(per_customer):
            days = SPREAD[(n + k) % len(SPREAD)]
            invoice_due(customer, DUE - dt.timedelta(days=days), "100.00", sub)


@pytest.mark.django_db
@pytest.mark.usefixtures("_fixed_clock")
def test_the_query_count_of_a_run_does_not_grow_with_the_overdue_invoices(tenant, other_tenant) -> None:
    require(connection.vendor == "postgresql", "the set-based statement is PostgreSQL's (SQLite: rows per INSERT)")
    _overdue_invoices(tenant.partner, customers=5, per_customer=2)  # 10 invoices
    _overdue_invoices(other_tenant.partner, customers=5, per_customer=12)  # 60 invoices
    counts = []
    for partner in (tenant.partner, other_tenant.partner):
        policy(partner)
        with CaptureQueriesContext(connection) as queries:
            run = collections_run(partner=partner, run_date=DUE)
        assert run.status == CollectionRun.Status.DONE
        counts.append(len(queries))
    small, large = (CollectionRun.objects.get(partner=p) for p in (tenant.partner, other_tenant.partner))
    assert (small.details["notices_queued"], large.details["notices_queued"]) == (10, 60)
    assert (small.suspensions_requested, large.suspensions_requested) == (1, 5)  # customers with one past +30
    assert counts[0] == counts[1]


@pytest.mark.django_db
@pytest.mark.usefixtures("_fixed_clock")
def test_notices_go_to_the_broker_in_chunks_and_a_run_again_queues_nothing(tenant, on_commit, messages,
                                                                           monkeypatch) -> None:  # fmt: skip
    monkeypatch.setattr(collections_service, "NOTICE_TASK_CHUNK", 4)
    _overdue_invoices(tenant.partner, customers=10, per_customer=1)
    with on_commit():
        first = run_on(tenant.partner, 0)
    assert first.details["notices_queued"] == 10
    assert messages["collection_notices_send_task"] == 3  # 4 + 4 + 2 notices
    assert len(mail.outbox) == 10
    # Two customers reached the suspension: their two changes go to Partner Center in one message.
    assert SubscriptionChange.objects.count() == 2
    assert messages["subscription_changes_push_task"] == 1
    assert messages["subscription_change_push_task"] == 0
    messages.clear()
    with on_commit():
        again = run_on(tenant.partner, 0)
    assert (again.status, again.details["notices_queued"], again.suspensions_requested) == ("done", 0, 0)
    assert sum(messages.values()) == 0
    assert len(mail.outbox) == 10


@pytest.mark.django_db
@pytest.mark.usefixtures("_fixed_clock")
def test_a_run_commits_batch_by_batch_and_the_next_run_does_what_a_crash_left(tenant, on_commit, monkeypatch) -> None:
    monkeypatch.setattr(collections_service, "BATCH_SIZE", 2)
    customers = [CustomerFactory(partner=tenant.partner) for _ in range(4)]  # with the tenant's two: 3 batches
    for customer in customers:
        invoice_due(customer, DUE - dt.timedelta(days=7), "100.00")
    name = "chase_batch" if connection.vendor == "postgresql" else "chase_batch_portable"
    original, calls = getattr(collections_service, name), []

    def crash_in_the_third_batch(**kwargs: object) -> object:
        calls.append(kwargs["low"])
        if len(calls) == 3:
            raise ConnectionError("database went away")
        return original(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(collections_service, name, crash_in_the_third_batch)
    with on_commit():
        failed = run_on(tenant.partner, 0)
    assert failed.status == CollectionRun.Status.FAILED
    assert failed.details["errors"] == ["ConnectionError: database went away"]
    kept = set(Notice.objects.values_list("customer_id", flat=True))
    assert kept == {c.pk for c in customers[:2]}  # the first two batches stay done, their emails went
    assert len(mail.outbox) == 2
    monkeypatch.setattr(collections_service, name, original)
    with on_commit():
        done = run_on(tenant.partner, 0)
    assert (done.status, done.details["notices_queued"]) == ("done", 2)
    assert Notice.objects.count() == 4
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_a_lease_left_by_a_crashed_run_expires(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE - dt.timedelta(days=7), "100.00")
    with clock.frozen(NOW):
        CollectionLease.objects.create(
            partner=tenant.partner, owner="a worker that died", taken_at=clock.now(),
            locked_until=clock.now() + collections_lease.LEASE_TTL,
        )  # fmt: skip
        skipped = run_on(tenant.partner, 0)
    assert skipped.status == CollectionRun.Status.SKIPPED
    assert not Notice.objects.exists()
    with clock.frozen(NOW + collections_lease.LEASE_TTL - dt.timedelta(seconds=1)):
        assert run_on(tenant.partner, 0).status == CollectionRun.Status.SKIPPED
    with clock.frozen(NOW + collections_lease.LEASE_TTL + dt.timedelta(seconds=1)):
        done = run_on(tenant.partner, 0)
    assert done.status == CollectionRun.Status.DONE
    assert list(Notice.objects.values_list("invoice_id", flat=True)) == [invoice.pk]
    lease = CollectionLease.objects.get(partner=tenant.partner)
    assert (lease.owner, lease.locked_until) == ("", collections_lease.LEASE_FREE)  # given back


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_two_connections_do_not_both_proceed() -> None:
    require(connection.vendor == "postgresql", "two connections at once need PostgreSQL")
    tenant = make_tenant("Leased")
    _overdue_invoices(tenant.partner, customers=6, per_customer=1)  # -3 … +30 days: one reaches the suspension
    for _attempt in range(5):
        barrier = threading.Barrier(2)
        results: list[str] = []

        def run(barrier: threading.Barrier = barrier, results: list[str] = results) -> None:
            try:
                barrier.wait(10)  # both ask for the lease at the same moment, each on its own connection
                results.append(collections_service.collections_run(partner=tenant.partner, run_date=DUE).status)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == 2
        assert "done" in results  # one proceeds; the other is skipped, or comes after it and finds nothing
    statuses = Counter(CollectionRun.objects.values_list("status", flat=True))
    assert statuses["failed"] == 0
    assert Notice.objects.count() == 6  # each once, whichever runs proceeded
    assert SubscriptionChange.objects.count() == 1
    # The lease itself: of two takers at the same moment exactly one wins, every time.
    for _ in range(5):
        barrier = threading.Barrier(2)
        won: list[bool] = []

        def take(barrier: threading.Barrier = barrier, won: list[bool] = won) -> None:
            try:
                barrier.wait(10)
                won.append(collections_lease.lease_take(tenant.partner, threading.current_thread().name))
            finally:
                connections.close_all()

        takers = [threading.Thread(target=take, name=f"taker-{n}") for n in range(2)]
        for thread in takers:
            thread.start()
        for thread in takers:
            thread.join(30)
        assert sorted(won) == [False, True]
        CollectionLease.objects.filter(partner=tenant.partner).update(locked_until=collections_lease.LEASE_FREE)


@pytest.mark.django_db
@pytest.mark.usefixtures("_fixed_clock")
def test_the_run_keeps_a_summary_row_per_customer_that_the_overview_reads(tenant, client_for) -> None:
    from decimal import Decimal

    from billing.collections.models import CustomerCollections
    from billing.invoicing.services import AllocationInput, payment_record

    late = invoice_due(tenant.customer, DUE - dt.timedelta(days=21), "300.00")
    invoice_due(tenant.customer, DUE - dt.timedelta(days=7), "50.00")
    soon = invoice_due(tenant.other_customer, DUE + dt.timedelta(days=2), "20.00")
    run_on(tenant.partner, 0)
    summaries = {s.customer_id: s for s in CustomerCollections.objects.all()}
    mine = summaries[tenant.customer.pk]
    assert (mine.overdue_total, mine.overdue_count, mine.oldest_overdue) == (Decimal("350.00"), 2, late.due_date)
    assert (mine.overdue_by_currency, mine.step, mine.next_action_on) == (
        {"USD": "350.00"},
        "final_notice",
        DUE + dt.timedelta(days=7),  # the +14 reminder of the invoice 7 days late
    )
    theirs = summaries[tenant.other_customer.pk]
    assert (theirs.overdue_total, theirs.oldest_overdue, theirs.step) == (Decimal("0.00"), None, "remind")
    with clock.frozen(NOW + dt.timedelta(hours=1)):
        run_on(tenant.partner, 0)
    mine.refresh_from_db()
    assert mine.updated_at == NOW  # a run again with nothing new writes nothing
    response = client_for(tenant.agent).get("/staff/collections/")
    rows = {r.customer.pk: r for r in response.context["rows"]}
    assert (rows[tenant.customer.pk].customer.overdue_amount, rows[tenant.customer.pk].days_overdue) == (
        Decimal("350.00"),
        22,  # the page counts to today, a day after the run date
    )
    payment_record(
        partner=tenant.partner, customer=tenant.other_customer, actor=None, amount=Decimal("20.00"), received_on=DUE,
        allocations=[AllocationInput(invoice=soon, amount=Decimal("20.00"))],
    )  # fmt: skip
    run_on(tenant.partner, 1)
    assert not CustomerCollections.objects.filter(customer=tenant.other_customer).exists()  # paid: out of reach
