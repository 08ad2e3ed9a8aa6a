"""With a real Celery worker on Redis: the email carries the Message-ID stored on the notice, and a
claim left by a worker that died while sending is made uncertain by the next run, not sent again."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from email import message_from_bytes
from pathlib import Path

import pytest
from django.db import connection

from billing.collections.models import CollectionRun, Notice
from billing.collections.tasks import collections_run_task
from config.celery import app as celery_app
from tests.conftest import make_tenant, require
from tests.factories.collections import DUE, invoice_due

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    require(connection.vendor == "postgresql", "the worker shares the test database only on PostgreSQL")
    queue = f"uncertain-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": _database_url(),
        "PORTAL_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,  # the notices the run enqueues stay on the private queue
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue,
         "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(celery_app.conf, "task_default_queue", queue)
    try:
        yield tmp_path
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait(condition, folder: Path, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(
        f"{what} did not happen in time; the worker's log ends:\n{(folder / 'worker.log').read_text()[-3000:]}"
    )


def test_a_dead_workers_claim_is_made_uncertain_by_the_next_run_on_a_real_worker(worker: Path) -> None:
    tenant = make_tenant("Uncertain")
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    run_date = (DUE + dt.timedelta(days=7)).isoformat()
    collections_run_task.delay(run_date=run_date, partner_id=tenant.partner.pk)
    _wait(lambda: Notice.objects.filter(invoice=invoice, status="sent").exists(), worker, "the notice sent")
    notice = Notice.objects.get(invoice=invoice)
    [mail_file] = sorted((worker / "mail").glob("*.log"))
    assert message_from_bytes(mail_file.read_bytes())["Message-ID"] == notice.message_id

    # What a worker killed right after the mail server accepted the email leaves, an hour later.
    Notice.objects.filter(pk=notice.pk).update(
        status="sending", claimed_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    collections_run_task.delay(run_date=run_date, partner_id=tenant.partner.pk)
    _wait(lambda: CollectionRun.objects.filter(status="done").count() == 2, worker, "the second run")
    _wait(lambda: Notice.objects.filter(pk=notice.pk, status="uncertain").exists(), worker, "the notice uncertain")
    time.sleep(1.0)  # a second email would arrive now
    assert len(list((worker / "mail").glob("*.log"))) == 1
