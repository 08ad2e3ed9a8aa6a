"""Collections under injected faults, on PostgreSQL with real Celery worker processes on Redis.

A worker killed (SIGKILL) in the middle of a run and in the middle of sending, the broker restarted
in the middle of a run, Partner Center answering 500, 429 and nothing at all while a run's suspensions
are pushed. After each, what the later runs and sweeps do leaves every due notice made and emailed
once (none twice, none lost), each suspension asked once and carried out at Microsoft once, the run
left behind closed, and `check_ledger` clean.

The workers stop at a chosen point of the code (tests/fakes/pausing_worker.py), so each fault hits the
same place every time. "Later" (a lapsed lease, a lapsed claim, a lost message's notice left pending)
is the rows' times moved back, as the clock would have moved them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db.models import Count, F

from billing.collections.models import CollectionLease, CollectionRun, Notice
from partner_portal.models import AuditEvent
from subscriptions.models import Subscription, SubscriptionChange
from tests.conftest import make_tenant, require
from tests.factories import CustomerFactory
from tests.factories.billing import assert_ledger_consistent
from tests.factories.collections import DUE, customers_at_every_step, invoice_due
from tests.factories.subscriptions import SubscriptionFactory
from tests.fakes import partner_center_shapes as shapes
from tests.workers import Workers

REDIS_SERVER = "/usr/bin/redis-server"
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _small_batches(workers: Workers) -> None:
    workers.env["COLLECTIONS_BATCH_SIZE"] = "4"  # a few customers make several batches


def _runs_finished(count: int) -> Callable[[], bool]:
    return lambda: CollectionRun.objects.exclude(status=CollectionRun.Status.RUNNING).count() == count


def _lease_lapses(partner_id: int) -> None:
    """LEASE_TTL later: the dead run's lease has lapsed."""
    CollectionLease.objects.filter(partner_id=partner_id).update(
        locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )


def _assert_each_notice_emailed_once(mails: list[Message], *, uncertain: int = 0) -> None:
    """One email per notice and Message-ID, none twice, none lost; `uncertain` notices left for staff
    (their email did leave, once)."""
    message_ids = [m["Message-ID"] for m in mails]
    assert len(message_ids) == len(set(message_ids)), "an email was sent twice"
    notices = dict(Notice.objects.values_list("message_id", "status"))
    assert sorted(message_ids) == sorted(notices), "a notice was not emailed, or an email is no notice's"
    assert sorted(notices.values()) == sorted(["sent"] * (len(notices) - uncertain) + ["uncertain"] * uncertain)
    # one notice per invoice and step
    assert not Notice.objects.values("invoice", "offset_days", "action").annotate(n=Count("pk")).filter(n__gt=1)


def _assert_each_suspension_once(suspended: list[Subscription]) -> None:
    changes = list(SubscriptionChange.objects.values_list("subscription_id", "wanted_status", "state"))
    assert sorted(changes) == sorted((s.pk, "suspended", "confirmed") for s in suspended)
    statuses = dict(Subscription.objects.values_list("pk", "status"))
    assert {pk for pk, status in statuses.items() if status != "active"} == {s.pk for s in suspended}
    assert {statuses[s.pk] for s in suspended} == {"suspended"}
    requested = AuditEvent.objects.filter(action="collections.suspension_requested")
    assert sorted(requested.values_list("customer_id", flat=True)) == sorted(s.customer_id for s in suspended)
    confirmed = AuditEvent.objects.filter(action="subscription.suspended")
    assert sorted(confirmed.values_list("target_id", flat=True)) == sorted(str(s.pk) for s in suspended)


def test_a_worker_killed_mid_run_is_closed_by_the_next_run_which_does_the_rest_once(workers: Workers) -> None:
    tenant = make_tenant("Killed")
    subs = customers_at_every_step(tenant.partner, 12)  # with the tenant's own two: four batches of four
    suspended = [s for n, s in enumerate(subs) if n % 6 == 5]
    first = workers.start(pause_at="batch-written:2")
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(lambda: workers.paused("batch-written"), "the run's second batch written")
    workers.kill(first)

    [dead] = CollectionRun.objects.all()
    assert dead.status == CollectionRun.Status.RUNNING
    # The first batch was committed and its notices queued; the second went with the worker.
    assert Notice.objects.count() == 2
    assert not SubscriptionChange.objects.exists()

    _lease_lapses(tenant.partner.pk)
    workers.start()
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(lambda: CollectionRun.objects.filter(status="done").exists(), "the next run")
    workers.wait(lambda: Notice.objects.filter(status="sent").count() == 12, "the twelve notices sent")
    workers.queue_run(tenant.partner.pk, DUE)  # a run again the same day; behind everything queued before it
    workers.wait(_runs_finished(3), "a run again")

    dead.refresh_from_db()
    assert dead.status == CollectionRun.Status.FAILED
    assert "interrupted" in dead.details["errors"][-1]
    assert list(
        AuditEvent.objects.filter(action="collections.run_interrupted").values_list("target_id", flat=True)
    ) == [str(dead.pk)]
    assert list(CollectionRun.objects.order_by("pk").values_list("status", flat=True)) == ["failed", "done", "done"]
    _assert_each_notice_emailed_once(workers.mails())
    assert Notice.objects.count() == 12
    _assert_each_suspension_once(suspended)
    assert_ledger_consistent()


def test_a_worker_killed_mid_send_leaves_that_notice_uncertain_and_the_rest_are_sent_once(workers: Workers) -> None:
    tenant = make_tenant("Midsend")
    subs = customers_at_every_step(tenant.partner, 6)
    first = workers.start(pause_at="email-sent:3")
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(lambda: workers.paused("email-sent"), "the third email sent")
    workers.kill(first)
    statuses = list(Notice.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["sent", "sent", "sending", "pending", "pending", "pending"]
    assert len(workers.mails()) == 3
    [cut_off] = Notice.objects.filter(status="sending")

    workers.start()
    # At once, a run leaves them alone: the claim is fresh, the pending ones may still be on their way.
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(_runs_finished(2), "the next run")
    assert list(Notice.objects.order_by("pk").values_list("status", flat=True)) == statuses
    assert len(workers.mails()) == 3

    # An hour later the claim has lapsed and the pending notices' message is taken for lost.
    Notice.objects.filter(status="sending").update(claimed_at=F("claimed_at") - dt.timedelta(hours=1))
    Notice.objects.update(created_at=F("created_at") - dt.timedelta(hours=1))
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(_runs_finished(3), "the run an hour later")
    workers.wait(lambda: not Notice.objects.filter(status="pending").exists(), "the pending notices sent")
    workers.queue_run(tenant.partner.pk, DUE)  # behind the sends: anything sent twice has arrived by its end
    workers.wait(_runs_finished(4), "a run again")

    mails = workers.mails()
    cut_off.refresh_from_db()
    assert [m["Message-ID"] for m in mails].count(cut_off.message_id) == 1  # it did leave, once
    _assert_each_notice_emailed_once(mails, uncertain=1)
    assert cut_off.status == Notice.Status.UNCERTAIN
    assert AuditEvent.objects.filter(action="collections.notice_uncertain", target_id=str(cut_off.pk)).count() == 1
    _assert_each_suspension_once([subs[5]])
    assert_ledger_consistent()


# --- the broker restarted -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    """A private Redis on a free port, keeping nothing on disk: a restart loses every message."""

    folder: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.folder / "redis.log").open("a") as log:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.folder)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start:\n{(self.folder / 'redis.log').read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=20)

    def keys(self) -> list[bytes]:
        return list(redis.Redis(port=self.port).keys("*"))


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    require(os.access(REDIS_SERVER, os.X_OK) or bool(shutil.which("redis-server")), "redis-server is missing")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()


def test_the_broker_restarted_mid_run_loses_no_notice_and_doubles_none(
    workers: Workers, private_redis: RedisServer
) -> None:
    workers.env["REDIS_URL"] = private_redis.url  # the workers' broker, results and cache
    workers.broker_url = private_redis.url
    tenant = make_tenant("Restart")
    subs = customers_at_every_step(tenant.partner, 12)
    suspended = [s for n, s in enumerate(subs) if n % 6 == 5]
    workers.start(pause_at="batch-start:3")
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(lambda: workers.paused("batch-start"), "the run's third batch begun")
    queued = Notice.objects.count()
    assert queued == 6  # two batches committed, their notices and a suspension queued on the broker
    assert private_redis.keys()

    private_redis.kill()  # the broker dies with those messages, and comes back empty on the same port
    private_redis.start()
    assert not private_redis.keys()
    workers.go("batch-start")

    workers.wait(_runs_finished(1), "the run finished")
    [run] = CollectionRun.objects.all()
    assert run.status == CollectionRun.Status.DONE, run.details
    workers.wait(
        lambda: Notice.objects.filter(status="sent").count() == 12 - queued, "the notices queued after the restart"
    )
    workers.queue_run(tenant.partner.pk, DUE)  # at once: the lost ones may still be on their way, left alone
    workers.wait(_runs_finished(2), "the next run")
    assert Notice.objects.filter(status="pending").count() == queued
    assert len(workers.mails()) == 12 - queued

    # Half an hour later their message is taken for lost: the next run queues them again, and the
    # sweep pushes the suspension the restart lost.
    Notice.objects.filter(status="pending").update(created_at=F("created_at") - dt.timedelta(minutes=31))
    SubscriptionChange.objects.filter(state="pending").update(next_attempt_at=dt.datetime.now(dt.UTC))
    workers.queue_run(tenant.partner.pk, DUE)
    workers.queue_sweep()
    workers.wait(_runs_finished(3), "the run half an hour later")
    workers.wait(lambda: Notice.objects.filter(status="sent").count() == 12, "every notice sent")
    workers.wait(
        lambda: SubscriptionChange.objects.filter(state="confirmed").count() == len(suspended), "the suspensions"
    )
    workers.queue_run(tenant.partner.pk, DUE)  # behind everything queued before it
    workers.wait(_runs_finished(4), "a run again")

    _assert_each_notice_emailed_once(workers.mails())
    _assert_each_suspension_once(suspended)
    assert_ledger_consistent()


def test_the_broker_down_when_a_batch_is_queued_fails_the_run_and_later_runs_do_the_rest_once(
    workers: Workers, private_redis: RedisServer
) -> None:
    workers.env["REDIS_URL"] = private_redis.url
    workers.broker_url = private_redis.url
    tenant = make_tenant("Down")
    subs = customers_at_every_step(tenant.partner, 12)
    suspended = [s for n, s in enumerate(subs) if n % 6 == 5]
    workers.start(pause_at="batch-start:3")
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(lambda: workers.paused("batch-start"), "the run's third batch begun")
    private_redis.kill()  # down, with the first two batches' messages, while the third batch is committed
    workers.go("batch-start")

    workers.wait(_runs_finished(1), "the run stopped")
    [failed] = CollectionRun.objects.all()
    assert failed.status == CollectionRun.Status.FAILED
    assert failed.details["errors"], failed.details
    assert Notice.objects.count() == 10  # the third batch committed, its notices never reached the broker
    private_redis.start()  # back, empty
    workers.queue_run(tenant.partner.pk, DUE)  # the next run does the fourth batch
    workers.wait(_runs_finished(2), "the next run")
    workers.wait(lambda: Notice.objects.filter(status="sent").count() == 2, "the fourth batch's notices sent")
    assert Notice.objects.filter(status="pending").count() == 10

    # Half an hour later the notices left pending are queued again, and the sweep pushes the suspension.
    Notice.objects.filter(status="pending").update(created_at=F("created_at") - dt.timedelta(minutes=31))
    SubscriptionChange.objects.filter(state="pending").update(next_attempt_at=dt.datetime.now(dt.UTC))
    workers.queue_run(tenant.partner.pk, DUE)
    workers.queue_sweep()
    workers.wait(_runs_finished(3), "the run half an hour later")
    workers.wait(lambda: Notice.objects.filter(status="sent").count() == 12, "every notice sent")
    workers.wait(
        lambda: SubscriptionChange.objects.filter(state="confirmed").count() == len(suspended), "the suspensions"
    )
    workers.queue_run(tenant.partner.pk, DUE)  # behind everything queued before it
    workers.wait(_runs_finished(4), "a run again")

    assert list(CollectionRun.objects.order_by("pk").values_list("status", flat=True)) == [
        "failed", "done", "done", "done",
    ]  # fmt: skip
    _assert_each_notice_emailed_once(workers.mails())
    _assert_each_suspension_once(suspended)
    assert_ledger_consistent()


# --- Partner Center failing while a run's suspensions are pushed ----------------------------------------


def test_partner_center_failing_during_a_runs_suspensions_pushes_each_once_later(
    workers: Workers, partner_center: Any
) -> None:
    workers.env.update({
        **partner_center.worker_env(),
        "PARTNER_CENTER_TIMEOUT_SECONDS": "1", "PARTNER_CENTER_CALL_TRIES": "2",
        "PARTNER_CENTER_RETRY_BASE_SECONDS": "1",
        "COLLECTIONS_BATCH_SIZE": "100",  # the run's suspensions in one batch: pushed together, retried by the sweep
    })  # fmt: skip
    tenant = make_tenant("Faulty")
    partner_center.connect(tenant.partner)
    suspended = [SubscriptionFactory(customer=CustomerFactory(partner=tenant.partner)) for _ in range(4)]
    for sub in suspended:  # thirty days overdue on the run's day: the suspension step
        invoice_due(sub.customer, DUE - dt.timedelta(days=30), "100.00", sub)
    erroring, throttled, answer_lost, silent = (s.microsoft_subscription_id for s in suspended)
    for _ in range(2):  # each of the client's two tries in the run's push
        partner_center.enqueue("PATCH", erroring, 500)
        partner_center.enqueue("PATCH", throttled, 429, headers={"Retry-After": "1"})
        partner_center.enqueue("PATCH", silent, 200, delay=1.5)  # no answer within the time-out
    # Microsoft suspends it, but its answer comes too late; the same request again finds the ETag moved on.
    partner_center.enqueue("PATCH", answer_lost, 200, delay=1.5, applies=True)
    workers.start()
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(_runs_finished(1), "the run")
    workers.wait(
        lambda: not SubscriptionChange.objects.filter(state="in_progress").exists()
        and SubscriptionChange.objects.filter(attempts__gt=0).count() == 4,
        "the run's suspensions tried once",
    )  # fmt: skip
    assert not partner_center._scripted  # every fault was met
    by_sub = {
        c.subscription.microsoft_subscription_id: c for c in SubscriptionChange.objects.select_related("subscription")
    }
    assert {sid: by_sub[sid].state for sid in (erroring, throttled, answer_lost, silent)} == {
        erroring: "pending", throttled: "pending", answer_lost: "confirmed", silent: "pending",
    }  # fmt: skip
    statuses = dict(Subscription.objects.values_list("microsoft_subscription_id", "status"))
    assert [statuses[sid] for sid in (erroring, throttled, answer_lost, silent)] == [
        "suspension_pending", "suspension_pending", "suspended", "suspension_pending",
    ]  # fmt: skip

    # A run again while they wait asks for nothing more and calls Microsoft for none of them.
    patches = len(partner_center.patches())
    workers.queue_run(tenant.partner.pk, DUE)
    workers.wait(_runs_finished(2), "a run again")
    assert SubscriptionChange.objects.count() == 4
    assert len(partner_center.patches()) == patches

    # Their next attempt's time comes: the sweep pushes each once more, and Microsoft answers.
    SubscriptionChange.objects.filter(state="pending").update(next_attempt_at=dt.datetime.now(dt.UTC))
    workers.queue_sweep()
    workers.wait(lambda: SubscriptionChange.objects.filter(state="confirmed").count() == 4, "the suspensions")
    workers.queue_run(tenant.partner.pk, DUE)  # behind the pushes
    workers.wait(_runs_finished(3), "a run again")

    _assert_each_suspension_once(suspended)
    assert {c.subscription_id: c.attempts for c in SubscriptionChange.objects.all()} == {
        s.pk: 1 if s.microsoft_subscription_id == answer_lost else 2 for s in suspended
    }
    for sid in (erroring, throttled, answer_lost, silent):
        resource = partner_center.subscription(sid)
        assert resource["status"] == "suspended"
        assert resource["attributes"]["etag"] == shapes.etag(resource["id"], 2)  # changed at Microsoft once
    _assert_each_notice_emailed_once(workers.mails())
    assert_ledger_consistent()
