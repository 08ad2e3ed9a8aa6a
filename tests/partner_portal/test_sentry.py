"""Errors from a view and from a task reach Sentry, tagged, without personal data.

The SDK is real; only its transport is replaced by one that keeps the envelopes it would send.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from django.test import Client
from django.urls import path
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from config.celery import app as celery_app
from config.sentry import default_release, init_sentry

ROOT = Path(__file__).resolve().parents[2]


class ViewFailure(Exception):
    pass


class TaskFailure(Exception):
    pass


def failing_view(request: Any) -> Any:
    raise ViewFailure("the view broke")


urlpatterns = [path("broken/", failing_view)]


@celery_app.task(name="tests.failing_task")
def failing_task(invoice_id: int) -> None:
    raise TaskFailure(f"the task broke on invoice {invoice_id}")


class CapturingTransport(Transport):
    """Keeps every envelope instead of sending it."""

    envelopes: list[Envelope]

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [item.payload.json for e in self.envelopes for item in e.items if item.type == "event"]


@pytest.fixture
def sentry() -> Any:
    transport = CapturingTransport()
    init_sentry("https://public@sentry.example/1", environment="staging", release="", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: nothing is sent by later tests


def _exception_types(event: dict[str, Any]) -> list[str]:
    return [value["type"] for value in event["exception"]["values"]]


@pytest.mark.urls(__name__)
def test_an_error_in_a_view_reaches_sentry_without_personal_data(sentry, tenant, client_for) -> None:
    client: Client = client_for(tenant.admin)
    client.raise_request_exception = False
    response = client.get("/broken/", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert response.status_code == 500
    sentry_sdk.flush()
    [event] = sentry.events()
    assert "ViewFailure" in _exception_types(event)
    assert event["environment"] == "staging"
    assert event["release"] == default_release()
    assert event["release"].startswith("csp-billing-portal@")
    assert event["transaction"] == "/broken/"
    text = json.dumps(event)
    assert tenant.admin.email not in text
    assert "sessionid" not in text
    assert "203.0.113.7" not in text


def test_an_error_in_a_task_reaches_sentry(sentry) -> None:
    with pytest.raises(TaskFailure):
        failing_task.delay(42)
    sentry_sdk.flush()
    [event] = sentry.events()
    assert "TaskFailure" in _exception_types(event)
    assert event["environment"] == "staging"
    assert event["extra"]["celery-job"]["task_name"] == "tests.failing_task"


PROBE = """
import django, json, sentry_sdk
django.setup()
client = sentry_sdk.get_client()
print(json.dumps({"dsn": client.dsn, "environment": client.options["environment"],
                  "release": client.options["release"], "pii": client.should_send_default_pii(),
                  "user_info": (client.options.get("data_collection") or {}).get("user_info"),
                  "integrations": sorted(client.integrations)}))
"""


def _probe(tmp_path: Path, **env: str) -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    base.update({"DJANGO_SETTINGS_MODULE": "config.settings.dev", "PORTAL_VAR_DIR": str(tmp_path), **env})
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_settings_send_errors_to_sentry_only_when_a_dsn_is_set(tmp_path: Path) -> None:
    assert _probe(tmp_path)["dsn"] is None
    probe = _probe(tmp_path, SENTRY_DSN="https://public@sentry.example/1", SENTRY_ENVIRONMENT="eu-production",
                   SENTRY_RELEASE="portal@2026.12")  # fmt: skip
    assert probe["dsn"] == "https://public@sentry.example/1"
    assert probe["environment"] == "eu-production"
    assert probe["release"] == "portal@2026.12"
    assert probe["pii"] is False
    assert probe["user_info"] is False
    assert {"django", "celery"} <= set(probe["integrations"])


def test_sentry_starts_without_deprecation_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init_sentry(
            "https://public@sentry.example/1", environment="staging", release="", transport=CapturingTransport()
        )
    try:
        options = sentry_sdk.get_client().options
        assert options["send_default_pii"] is None
        assert options["data_collection"]["cookies"] == {"mode": "off"}
        assert options["data_collection"]["http_bodies"] == []
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()
