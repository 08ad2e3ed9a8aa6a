"""A real round trip: the web side enqueues on Redis, a real Celery worker process runs the task
against the same PostgreSQL database and sends the email."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from partner_portal import services
from partner_portal.models import Role
from tests.conftest import make_tenant, require

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    require(connection.vendor == "postgresql", "the worker shares the test database only on PostgreSQL")
    queue = f"roundtrip-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": _database_url(),
        "PORTAL_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    # This process now enqueues for real, on the worker's private queue.
    monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(celery_app.conf, "task_default_queue", queue)
    try:
        yield tmp_path
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_for_mail(folder: Path, log: Path, timeout: float = 60) -> list[Message]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.log")) if folder.exists() else []
        if files:
            time.sleep(0.2)  # let the backend finish writing
            return [message_from_bytes(f.read_bytes()) for f in files]
        time.sleep(0.25)
    raise AssertionError("the worker sent no email in time; its log ends:\n" + log.read_text()[-3000:])


def test_invitation_email_is_sent_by_a_real_worker_through_redis(worker: Path) -> None:
    tenant = make_tenant("Roundtrip")
    invitation = services.invitation_create(
        partner=tenant.partner,
        actor=tenant.admin,
        request=services.InvitationRequest(email="new.agent@example.com", role=Role.SUPPORT_AGENT),
        base_url="https://portal.example.com/",
    )
    messages = _wait_for_mail(worker / "mail", worker / "worker.log")
    assert len(messages) == 1
    assert messages[0]["To"] == "new.agent@example.com"
    body = messages[0].get_payload(0).get_payload(decode=True).decode()
    assert f"https://portal.example.com/invitations/{invitation.token}/" in body
    assert "Roundtrip Partners" in body
    log = (worker / "worker.log").read_text()
    assert "invitation_send_task" in log
    assert "succeeded" in log
