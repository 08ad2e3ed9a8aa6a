"""A half-configured deployment refuses to run: deploy checks, and the processes that run them at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.urls import reverse

from partner_portal import checks as deploy_checks
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k3x!8v#q2m@w9z$r5t^y7u&i1o*p0a(s)d-f+g=h_j[k]l;z:x<c>v?b/n.m,q1w2e"


def _ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [m.id for m in messages if m.is_serious()]


def test_the_record_backend_is_refused_unless_chosen_on_purpose(settings) -> None:
    settings.PARTNER_CENTER_BACKEND = "record"
    settings.PARTNER_CENTER_RECORD_ONLY = False
    [error] = deploy_checks.check_partner_center_backend()
    assert error.id == "portal.E001"
    assert "without any call to Microsoft" in error.msg
    assert "PARTNER_CENTER_BACKEND=http" in error.hint
    settings.PARTNER_CENTER_RECORD_ONLY = True
    assert deploy_checks.check_partner_center_backend() == []
    settings.PARTNER_CENTER_BACKEND = "http"
    settings.PARTNER_CENTER_RECORD_ONLY = False
    assert deploy_checks.check_partner_center_backend() == []


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://localhost:8000", "https://LOCALHOST", "http://[::1]:8000",
     "http://127.1.2.3", "http://0.0.0.0:8000", "http://portal.localhost", ""],
)  # fmt: skip
def test_a_base_url_on_this_machine_is_refused(settings, url: str) -> None:
    settings.PORTAL_BASE_URL = url
    [error] = deploy_checks.check_portal_base_url()
    assert error.id == "portal.E002"
    assert "Set PORTAL_BASE_URL to the portal's public address" in error.hint


@pytest.mark.parametrize("url", ["https://portal.example.com", "https://10.0.0.5", "https://billing.contoso.example/"])
def test_a_public_base_url_passes(settings, url: str) -> None:
    settings.PORTAL_BASE_URL = url
    assert deploy_checks.check_portal_base_url() == []


@pytest.mark.parametrize(
    "backend", ["django.core.mail.backends.console.EmailBackend", "django.core.mail.backends.filebased.EmailBackend"]
)
def test_an_email_backend_that_sends_nothing_is_refused(settings, backend: str) -> None:
    settings.METERED_EMAIL_BACKEND = backend
    [error] = deploy_checks.check_email_backend()
    assert error.id == "portal.E003"
    assert "Set EMAIL_URL" in error.hint
    settings.METERED_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert deploy_checks.check_email_backend() == []


@pytest.mark.parametrize(
    "key",
    ["", "short", "insecure-embedded-only-key-change-me-in-production-0123456789",
     "django-insecure-" + "x1y2z3" * 10, "a" * 80],
)  # fmt: skip
def test_a_missing_default_or_weak_secret_key_is_refused(settings, key: str) -> None:
    settings.SECRET_KEY = key
    [error] = deploy_checks.check_secret_key()
    assert error.id == "portal.E004"
    assert "Set SECRET_KEY to a random string of at least 50 characters" in error.hint


def test_a_random_secret_key_passes(settings) -> None:
    settings.SECRET_KEY = GOOD_KEY
    assert deploy_checks.check_secret_key() == []


def test_an_unreachable_broker_is_refused(settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    [error] = deploy_checks.check_broker()
    assert error.id == "portal.E005"
    assert "Set REDIS_URL" in error.hint


def test_a_reachable_broker_passes(settings) -> None:
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL is not set")
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert deploy_checks.check_broker() == []


def test_the_checks_run_only_with_deploy(settings) -> None:
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    assert "portal.E002" not in _ids(checks.run_checks(tags=[deploy_checks.TAG]))
    assert "portal.E002" in _ids(checks.run_checks(include_deployment_checks=True, tags=[deploy_checks.TAG]))


# --- The processes ---------------------------------------------------------------------------------


def _production_env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": GOOD_KEY,
            "ALLOWED_HOSTS": "portal.example.com",
            "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://portal@127.0.0.1:5432/portal",
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.com:587",
            "PORTAL_BASE_URL": "https://portal.example.com",
            "PARTNER_CENTER_BACKEND": "http",
            **changes,
        }
    )
    return env


def test_check_deploy_reports_the_record_backend_with_what_to_set() -> None:
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT, env=_production_env(PARTNER_CENTER_BACKEND="record"), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "portal.E001" in result.stderr
    assert "Set PARTNER_CENTER_BACKEND=http" in result.stderr


def test_the_worker_exits_with_the_checks_message_when_half_configured(tmp_path: Path) -> None:
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    env = _production_env(PARTNER_CENTER_BACKEND="record", PORTAL_BASE_URL="http://127.0.0.1:8000")
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", "never-started",
         "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "The Celery worker refuses to start" in result.stderr
    assert "portal.E001" in result.stderr
    assert "Set PARTNER_CENTER_BACKEND=http" in result.stderr
    assert "Set PORTAL_BASE_URL to the portal's public address" in result.stderr
    assert "celery@" not in result.stdout + result.stderr.split("refuses to start")[1]


def test_beat_exits_with_the_checks_message_when_half_configured(tmp_path: Path) -> None:
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    env = _production_env(EMAIL_URL="consolemail://")  # emails printed to the log, never sent
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--schedule", str(tmp_path / "schedule")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "The Celery beat refuses to start" in result.stderr
    assert "portal.E003" in result.stderr
    assert "Set EMAIL_URL to the SMTP server" in result.stderr


def test_the_web_process_stops_with_the_checks_message_and_gunicorns_app_load_code() -> None:
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    env = _production_env(PORTAL_BASE_URL="http://localhost:8000")
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 4
    assert "The web server refuses to start" in result.stderr
    assert "portal.E002" in result.stderr


def test_a_fully_configured_web_process_starts() -> None:
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi; print('loaded')"],
        cwd=ROOT, env=_production_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout


# --- The banner ------------------------------------------------------------------------------------


def test_staff_see_that_microsoft_is_not_called_when_the_record_backend_is_chosen(settings, tenant, client_for) -> None:
    settings.PARTNER_CENTER_BACKEND = "record"
    page = client_for(tenant.admin).get(reverse("home"), follow=True)
    assert 'data-testid="record-only-banner"' not in page.content.decode()
    settings.PARTNER_CENTER_RECORD_ONLY = True
    page = client_for(tenant.admin).get(reverse("home"), follow=True)
    assert "Microsoft is not called." in page.content.decode()
    customer_page = client_for(tenant.customer_admin).get(reverse("home"), follow=True)
    assert 'data-testid="record-only-banner"' not in customer_page.content.decode()
    settings.PARTNER_CENTER_BACKEND = "http"
    page = client_for(tenant.admin).get(reverse("home"), follow=True)
    assert 'data-testid="record-only-banner"' not in page.content.decode()
