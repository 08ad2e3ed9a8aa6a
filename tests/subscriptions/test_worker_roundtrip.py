"""A real round trip: a suspension committed here is pushed by a real Celery worker process (over
Redis, on the same PostgreSQL database) to the fake Partner Center; the sweep recovers a lost push."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from subscriptions.models import Subscription, SubscriptionChange
from subscriptions.services import subscription_suspend
from subscriptions.tasks import subscription_changes_retry_task
from tests.conftest import make_tenant, require
from tests.factories.subscriptions import SubscriptionFactory
from tests.fakes.partner_center import FakePartnerCenter

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "roundtrip-partner-center-key"
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def fake_and_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings):
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    require(connection.vendor == "postgresql", "the worker shares the test database only on PostgreSQL")
    settings.PARTNER_CENTER_SECRET_KEY = SECRET_KEY  # the worker decrypts the secret saved here
    queue = f"subscriptions-{uuid.uuid4().hex[:8]}"
    with FakePartnerCenter() as fake:
        env = {
            **os.environ, **fake.worker_env(),
            "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DATABASE_URL": _database_url(),
            "PORTAL_VAR_DIR": str(tmp_path), "DEBUG": "false", "PARTNER_CENTER_SECRET_KEY": SECRET_KEY,
            "CELERY_TASK_DEFAULT_QUEUE": queue,  # what the worker enqueues itself (the sweep's pushes)
        }  # fmt: skip
        log = (tmp_path / "worker.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue,
             "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
        monkeypatch.setattr(celery_app.conf, "task_default_queue", queue)
        try:
            yield fake, tmp_path / "worker.log"
        finally:
            process.terminate()
            process.wait(timeout=20)
            log.close()


def _wait_for(change_id: int, state: str, log: Path, timeout: float = 60) -> SubscriptionChange:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        change = SubscriptionChange.objects.get(pk=change_id)
        if change.state == state:
            return change
        time.sleep(0.25)
    raise AssertionError(f"change {change_id} is not {state}; the worker's log ends:\n" + log.read_text()[-3000:])


def test_a_suspension_is_pushed_by_a_real_worker(fake_and_worker) -> None:
    fake, log = fake_and_worker
    tenant = make_tenant("Roundtrip")
    fake.connect(tenant.partner)
    sub = SubscriptionFactory(customer=tenant.customer)
    change = subscription_suspend(subscription=sub, reason="Overdue", actor=tenant.finance)  # commits: autocommit
    assert change is not None
    change = _wait_for(change.pk, "confirmed", log)
    assert change.attempts == 1
    (patch,) = fake.patches(sub.microsoft_subscription_id)
    assert patch.headers["MS-RequestId"] == str(change.request_id)
    assert patch.path == f"/v1/customers/{tenant.customer.tenant_id}/subscriptions/{sub.microsoft_subscription_id}"
    assert Subscription.objects.get(pk=sub.pk).status == "suspended"


def test_a_push_lost_after_commit_is_sent_once_by_the_sweep(fake_and_worker, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, log = fake_and_worker
    tenant = make_tenant("Sweep")
    fake.connect(tenant.partner)
    sub = SubscriptionFactory(customer=tenant.customer)
    # The process dies between the commit and the queue: the after-commit push never goes out.
    from subscriptions.services import status as status_services

    with monkeypatch.context() as patched:
        patched.setattr(status_services, "_schedule_push", lambda ids: None)
        change = subscription_suspend(subscription=sub, reason="Overdue", actor=None)
    assert change is not None
    SubscriptionChange.objects.filter(pk=change.pk).update(next_attempt_at=change.created_at)  # past its grace
    subscription_changes_retry_task.delay().get(timeout=60)
    subscription_changes_retry_task.delay().get(timeout=60)  # a second sweep finds it moved on
    change = _wait_for(change.pk, "confirmed", log)
    assert change.attempts == 1
    assert len(fake.patches(sub.microsoft_subscription_id)) == 1
