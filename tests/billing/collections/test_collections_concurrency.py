"""Collections under concurrency on PostgreSQL: two runs at once give one run; with real Celery
workers on Redis and the fake Partner Center, each notice is emailed once and each subscription
change is one PATCH."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from billing.collections.models import CollectionRun, Notice
from billing.collections.services import run as collections_service
from billing.collections.tasks import collections_run_task
from subscriptions.models import Subscription, SubscriptionChange
from tests.conftest import make_tenant, require
from tests.factories.billing import assert_ledger_consistent
from tests.factories.collections import DUE, customers_at_every_step
from tests.workers import Workers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_run_while_one_is_in_progress_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    require(connection.vendor == "postgresql", "two runs at once need two connections (PostgreSQL)")
    tenant = make_tenant("Locked")
    customers_at_every_step(tenant.partner)
    inside, release = threading.Event(), threading.Event()
    original = collections_service._chase

    def slow_chase(**kwargs: object) -> None:
        inside.set()
        assert release.wait(20)
        original(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(collections_service, "_chase", slow_chase)
    results: list[CollectionRun] = []

    def first() -> None:
        try:
            results.append(collections_service.collections_run(partner=tenant.partner, run_date=DUE))
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(20)
    monkeypatch.setattr(collections_service, "_chase", original)
    second = collections_service.collections_run(partner=tenant.partner, run_date=DUE)
    release.set()
    thread.join(30)
    assert second.status == CollectionRun.Status.SKIPPED
    assert [r.status for r in results] == [CollectionRun.Status.DONE]
    assert Notice.objects.count() == 6
    assert SubscriptionChange.objects.count() == 1
    third = collections_service.collections_run(partner=tenant.partner, run_date=DUE)  # the lock is free again
    assert (third.status, third.details["notices_queued"]) == (CollectionRun.Status.DONE, 0)
    assert_ledger_consistent()


@pytest.mark.celery_worker
def test_two_concurrent_runs_on_real_workers_send_once_and_patch_once(workers: Workers, partner_center) -> None:
    workers.env.update(partner_center.worker_env())  # the http Partner Center backend pointed at the fake
    workers.start()
    workers.start()
    tenant = make_tenant("Concurrent")
    partner_center.connect(tenant.partner)
    subs = customers_at_every_step(tenant.partner, 12)
    for _ in range(2):  # two schedulers firing at once, then a late third
        collections_run_task.delay(run_date=DUE.isoformat(), partner_id=tenant.partner.pk)
    workers.wait(lambda: CollectionRun.objects.filter(status__in=["done", "skipped"]).count() == 2, "two runs")
    collections_run_task.delay(run_date=DUE.isoformat(), partner_id=tenant.partner.pk)
    workers.wait(lambda: CollectionRun.objects.filter(status__in=["done", "skipped"]).count() == 3, "the third run")
    workers.wait(lambda: Notice.objects.filter(status="sent").count() == 12, "twelve notices sent")
    suspended = [s for n, s in enumerate(subs) if n % 6 == 5]
    workers.wait(
        lambda: SubscriptionChange.objects.filter(state="confirmed").count() == len(suspended),
        "the suspensions confirmed by Partner Center",
    )
    time.sleep(1.0)  # anything sent twice would arrive now

    assert CollectionRun.objects.filter(status="failed").count() == 0
    assert sum(CollectionRun.objects.values_list("notices_sent", flat=True)) == 12
    # one notice per invoice and step, one email each
    assert Notice.objects.values("invoice_id", "offset_days", "action").distinct().count() == 12
    mails = workers.mails()
    assert len(mails) == 12
    assert sorted(m["To"] for m in mails) == sorted(Notice.objects.values_list("customer__billing_email", flat=True))
    # one PATCH per subscription change, and only for the customers at the suspension step
    patched = sorted(r.subscription_id for r in partner_center.patches())
    assert patched == sorted(s.microsoft_subscription_id for s in suspended)
    assert all(r.json["status"] == "suspended" for r in partner_center.patches())
    statuses = dict(Subscription.objects.values_list("pk", "status"))
    assert {pk for pk, status in statuses.items() if status == "suspended"} == {s.pk for s in suspended}
    assert SubscriptionChange.objects.count() == len(suspended)
    assert_ledger_consistent()
