"""Settings from the environment: embedded defaults, real services when set, a clean deploy check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.variables import required_in_production

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
from config.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_options": {k: str(v) for k, v in settings.DATABASES["default"].get("OPTIONS", {}).items()},
    "broker": app.conf.broker_url,
    "backend": str(app.conf.result_backend),
    "email": settings.METERED_EMAIL_BACKEND,
    "email_host": getattr(settings, "EMAIL_HOST", ""),
    "email_tls": getattr(settings, "EMAIL_USE_TLS", False),
    "cache": settings.CACHES["default"]["BACKEND"],
    "mfa": settings.PORTAL_MFA_REQUIRED,
    "api_docs_public": settings.API_DOCS_PUBLIC,
}))
"""


def _clean_env() -> dict[str, str]:
    """This process's environment without what the test run itself sets."""
    return {k: v for k, v in os.environ.items() if k not in {"CI", "DJANGO_ALLOW_ASYNC_UNSAFE"}}


def _settings_with(env: dict[str, str], module: str = "config.settings.dev", tmp: Path | None = None) -> dict:
    base = {k: v for k, v in _clean_env().items() if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}}
    base.update({"DJANGO_SETTINGS_MODULE": module, **env})
    if tmp is not None:
        base["PORTAL_VAR_DIR"] = str(tmp)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_with_nothing_set_the_portal_needs_no_server(tmp_path: Path) -> None:
    probe = _settings_with({}, tmp=tmp_path)
    assert probe["engine"] == "django.db.backends.sqlite3"
    # Shared by web, worker and beat: WAL, IMMEDIATE transactions and a busy timeout.
    assert probe["db_options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in probe["db_options"]["init_command"]
    assert probe["broker"] == "filesystem://localhost/"
    assert probe["backend"].startswith("file://")
    assert probe["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert probe["mfa"] is False


def test_with_services_set_the_portal_uses_postgresql_redis_and_smtp(tmp_path: Path) -> None:
    probe = _settings_with(
        {
            "DATABASE_URL": "postgres://portal:secret@db.internal:5432/portal",
            "REDIS_URL": "redis://cache.internal:6379/1",
            "EMAIL_URL": "smtp+tls://mailer:pw@smtp.internal:587",
        },
        tmp=tmp_path,
    )
    assert probe["engine"] == "django.db.backends.postgresql"
    assert probe["broker"] == "redis://cache.internal:6379/1"
    assert probe["backend"] == "redis://cache.internal:6379/1"
    assert probe["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert probe["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert probe["email_host"] == "smtp.internal"
    assert probe["email_tls"] is True


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k3x!8v#q2m@w9z$r5t^y7u&i1o*p0a(s)d-f+g=h_j[k]l;z:x<c>v?b/n.m,q1w2e",
    "ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "postgres://portal@127.0.0.1:5432/portal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.com:587",
    "PORTAL_BASE_URL": "https://portal.example.com",
    "PARTNER_CENTER_BACKEND": "http",
}


def test_production_mode_passes_the_deploy_check_with_no_warning() -> None:
    env = {**_clean_env(), **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_mode_requires_mfa_and_refuses_a_weak_secret_key() -> None:
    env = _clean_env()
    probe = _settings_with(PRODUCTION_ENV, module="config.settings.production")
    assert probe["mfa"] is True
    weak = {**env, **PRODUCTION_ENV, "SECRET_KEY": "short"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=weak, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be a random string" in result.stderr


def test_the_api_docs_are_public_in_development_and_not_in_production(tmp_path: Path) -> None:
    assert _settings_with({}, tmp=tmp_path)["api_docs_public"] is True
    assert _settings_with(PRODUCTION_ENV, module="config.settings.production")["api_docs_public"] is False
    assert _settings_with({"API_DOCS_PUBLIC": "false"}, tmp=tmp_path)["api_docs_public"] is False


@pytest.mark.parametrize("missing", required_in_production())
def test_production_mode_refuses_to_start_without_required_settings(missing: str) -> None:
    env = {k: v for k, v in {**_clean_env(), **PRODUCTION_ENV}.items() if k != missing}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert missing in result.stderr


def test_every_scheduled_job_is_a_registered_task() -> None:
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    assert settings.CELERY_BEAT_SCHEDULE
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


def test_an_unknown_partner_center_backend_is_refused(tmp_path: Path) -> None:
    env = {**_clean_env(), "DJANGO_SETTINGS_MODULE": "config.settings.dev", "PORTAL_VAR_DIR": str(tmp_path),
           "PARTNER_CENTER_BACKEND": "HTTP"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "PARTNER_CENTER_BACKEND must be 'record' or 'http', not 'HTTP'" in result.stderr
