"""LOG_FORMAT=json: one JSON object per line, and one request id from the browser's request to the
worker's task it queued."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client

from config.celery import app as celery_app
from config.settings.base import logging_config
from partner_portal.logcontext import JsonLineFormatter
from partner_portal.models import Role
from tests.conftest import Tenant, make_tenant, require
from tests.partner_portal.test_celery_roundtrip import _database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_lines():
    """What Django's request logger writes to the console, in the JSON format."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    django_logger = logging.getLogger("django")
    django_logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        django_logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_request_logs_a_json_line_with_its_request_id_and_answers_with_it(
    tenant: Tenant, client_for, json_lines
) -> None:
    response = client_for(tenant.agent).get("/staff/audit/", HTTP_X_REQUEST_ID="lb-7f3a9c01")
    assert response.status_code == 403
    assert response["X-Request-ID"] == "lb-7f3a9c01"
    [line] = json_lines()
    assert line["level"] == "WARNING"
    assert line["logger"] == "django.request"
    assert line["message"] == "Forbidden (Permission denied): /staff/audit/"
    assert line["request_id"] == "lb-7f3a9c01"
    assert line["partner_id"] == tenant.partner.pk
    assert line["time"].endswith("+00:00")
    assert "exception" not in line


@pytest.mark.django_db
def test_a_request_without_a_sane_id_gets_a_new_one(json_lines) -> None:
    client = Client()
    first = client.get("/no-such-page/", HTTP_X_REQUEST_ID='"><script>alert(1)</script>')
    second = client.get("/no-such-page/")
    assert first.status_code == second.status_code == 404
    ids = [first["X-Request-ID"], second["X-Request-ID"]]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert ids[0] != ids[1]
    assert [line["request_id"] for line in json_lines()] == ids
    assert all("partner_id" not in line for line in json_lines())


def test_an_exception_is_in_the_line_as_text() -> None:
    formatter = JsonLineFormatter()
    try:
        raise ValueError("the amount is not a number")
    except ValueError:
        record = logging.LogRecord("billing", logging.ERROR, __file__, 1, "import failed", None, sys.exc_info())
    line = json.loads(formatter.format(record))
    assert line["message"] == "import failed"
    assert "ValueError: the amount is not a number" in line["exception"]


def test_log_format_is_json_or_text() -> None:
    assert logging_config("json")["handlers"]["console"]["formatter"] == "json"
    assert logging_config("text")["handlers"]["console"]["formatter"] == "text"
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT must be json or text"):
        logging_config("xml")


PROBE = "import django, json; django.setup(); from django.conf import settings; print(settings.LOG_FORMAT)"


def _log_format(tmp_path: Path, settings_module: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "LOG_FORMAT"}
    base.update({"DJANGO_SETTINGS_MODULE": settings_module, "PORTAL_VAR_DIR": str(tmp_path), **env})
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_production_logs_json_and_development_text_unless_told(tmp_path: Path) -> None:
    production = {
        "SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "portal.example.com", "DATABASE_URL": "postgres://u@db/p",
        "REDIS_URL": "redis://redis:6379/0", "EMAIL_URL": "smtp://relay:25",
        "PORTAL_BASE_URL": "https://portal.example.com",
    }  # fmt: skip
    assert _log_format(tmp_path, "config.settings.production", **production) == "json"
    assert _log_format(tmp_path, "config.settings.production", LOG_FORMAT="text", **production) == "text"
    assert _log_format(tmp_path, "config.settings.dev") == "text"
    assert _log_format(tmp_path, "config.settings.dev", LOG_FORMAT="json") == "json"


@pytest.fixture
def json_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real Celery worker on Redis, logging JSON, sharing the test database."""
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    require(connection.vendor == "postgresql", "the worker shares the test database only on PostgreSQL")
    queue = f"jsonlog-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": _database_url(),
        "PORTAL_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "LOG_FORMAT": "json",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "--quiet", "worker", "--pool=solo", "-Q", queue,
             "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
        monkeypatch.setattr(celery_app.conf, "task_default_queue", queue)
        try:
            yield log
        finally:
            process.terminate()
            process.wait(timeout=20)


def _task_lines(log: Path, task_name: str, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        done = [line for line in lines if line.get("task_name") == task_name and "succeeded" in line["message"]]
        if done:
            return [line for line in lines if line.get("task_name") == task_name]
        time.sleep(0.25)
    raise AssertionError("the worker did not log the task in time; its log ends:\n" + log.read_text()[-3000:])


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_logs_its_task_id_and_the_request_id(json_worker: Path) -> None:
    tenant = make_tenant("Logline")
    client = Client()
    client.force_login(tenant.admin)
    response = client.post(
        "/staff/team/", {"email": "new.agent@example.com", "role": Role.SUPPORT_AGENT}, HTTP_X_REQUEST_ID="trace-42"
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "trace-42"
    lines = _task_lines(json_worker, "partner_portal.tasks.invitation_send_task")
    assert lines
    for line in lines:
        assert line["request_id"] == "trace-42"
        assert line["partner_id"] == tenant.partner.pk
        assert len(line["task_id"]) == 36
        assert {"time", "level", "logger", "message"} <= set(line)
    # With --quiet (no banner), everything the worker logs is JSON, Celery's own lines included (only a
    # Python warning about running as root, printed before logging starts, may come first).
    raw = [line for line in json_worker.read_text().splitlines() if line.strip()]
    first = next(i for i, line in enumerate(raw) if line.startswith("{"))
    assert [line for line in raw[first:] if not line.startswith("{")] == []
    assert any(json.loads(line)["message"].endswith(" ready.") for line in raw[first:])


@pytest.mark.django_db
def test_each_partner_of_a_scheduled_job_logs_with_its_partner_id(tenant: Tenant, other_tenant: Tenant) -> None:
    from partner_portal.jobs import for_each_partner

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    job_logger = logging.getLogger("billing.job")
    job_logger.addHandler(handler)
    try:
        for_each_partner(lambda partner: job_logger.warning("run for %s", partner.slug))
        job_logger.warning("all done")
    finally:
        job_logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["message"], line.get("partner_id")) for line in lines] == [
        (f"run for {tenant.partner.slug}", tenant.partner.pk),
        (f"run for {other_tenant.partner.slug}", other_tenant.partner.pk),
        ("all done", None),
    ]


def test_gunicorn_writes_its_access_lines_as_json_with_the_request_id(tmp_path: Path) -> None:
    """The image's web server reads gunicorn.conf.py: its access line names the request's id."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.dev", "PORTAL_VAR_DIR": str(tmp_path), "DEBUG": "false",
                "LOG_FORMAT": "json"})  # fmt: skip
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--access-logfile", "-", "--error-logfile", "-"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/accounts/login/", headers={"X-Request-ID": "edge-9"}
            )
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a local http URL
                        assert response.headers["X-Request-ID"] == "edge-9"
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=20)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    [access] = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert '"GET /accounts/login/ HTTP/1.1" 200' in access["message"]
    assert access["request_id"] == "edge-9"
    assert any(line["logger"] == "gunicorn.error" and line["message"].startswith("Listening at") for line in lines)
