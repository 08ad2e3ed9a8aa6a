"""Collections under concurrency on PostgreSQL: two runs at once give one run; with real Celery
workers on Redis and the fake Partner Center, each notice is emailed once and each subscription
change is one PATCH."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from email import message_from_bytes
from pathlib import Path

import pytest
from django.db import connection, connections

from billing.collections.models import CollectionRun, Notice
from billing.collections.services import run as collections_service
from billing.collections.tasks import collections_run_task
from config.celery import app as celery_app
from subscriptions.models import Subscription, SubscriptionChange
from tests.conftest import make_tenant, require
from tests.factories.billing import assert_ledger_consistent
from tests.factories.collections import DUE, customers_at_every_step

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


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


@pytest.fixture
def workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partner_center):
    """Two real Celery worker processes on a private Redis queue, on the test database, with the http
    Partner Center backend pointed at the fake."""
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    require(connection.vendor == "postgresql", "the workers share the test database only on PostgreSQL")
    queue = f"collections-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        **partner_center.worker_env(),
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": _database_url(),
        "PORTAL_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,  # what the workers enqueue (notices, pushes) stays private too
    }
    processes, logs = [], []
    for n in range(2):
        log = (tmp_path / f"worker{n}.log").open("w")
        logs.append(log)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue,
             "-n", f"collections{n}-{queue}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
    monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(celery_app.conf, "task_default_queue", queue)
    try:
        yield tmp_path
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        for log in logs:
            log.close()


def _logs(folder: Path) -> str:
    return "\n".join(p.read_text()[-3000:] for p in sorted(folder.glob("worker*.log")))


def _wait(condition, folder: Path, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen in time; the workers' logs end:\n{_logs(folder)}")


def test_two_concurrent_runs_on_real_workers_send_once_and_patch_once(workers: Path, partner_center) -> None:
    tenant = make_tenant("Concurrent")
    partner_center.connect(tenant.partner)
    subs = customers_at_every_step(tenant.partner, 12)
    for _ in range(2):  # two schedulers firing at once, then a late third
        collections_run_task.delay(run_date=DUE.isoformat(), partner_id=tenant.partner.pk)
    _wait(lambda: CollectionRun.objects.filter(status__in=["done", "skipped"]).count() == 2, workers, "two runs")
    collections_run_task.delay(run_date=DUE.isoformat(), partner_id=tenant.partner.pk)
    _wait(lambda: CollectionRun.objects.filter(status__in=["done", "skipped"]).count() == 3, workers, "the third run")
    _wait(lambda: Notice.objects.filter(status="sent").count() == 12, workers, "twelve notices sent")
    suspended = [s for n, s in enumerate(subs) if n % 6 == 5]
    _wait(
        lambda: SubscriptionChange.objects.filter(state="confirmed").count() == len(suspended), workers,
        "the suspensions confirmed by Partner Center",
    )  # fmt: skip
    time.sleep(1.0)  # anything sent twice would arrive now

    assert CollectionRun.objects.filter(status="failed").count() == 0
    assert sum(CollectionRun.objects.values_list("notices_sent", flat=True)) == 12
    # one notice per invoice and step, one email each
    assert Notice.objects.values("invoice_id", "offset_days", "action").distinct().count() == 12
    mails = [message_from_bytes(p.read_bytes()) for p in sorted((workers / "mail").glob("*.log"))]
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
