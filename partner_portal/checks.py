"""Deploy checks: a half-configured installation refuses to run.

Django system checks tagged `deploy`: `manage.py check --deploy` runs them, and so do the web process
(config/wsgi.py) and the Celery worker and beat (config/celery.py) at start when DEBUG is off. Each
error says what to set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from kombu import Connection

TAG = "deploy"
# Email backends that never deliver a message.
NON_SENDING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "prints emails to the log",
    "django.core.mail.backends.filebased.EmailBackend": "writes emails to files",
    "django.core.mail.backends.dummy.EmailBackend": "discards emails",
    "django.core.mail.backends.locmem.EmailBackend": "keeps emails in memory",
}
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5


@checks.register(TAG, deploy=True)
def check_partner_center_backend(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.PARTNER_CENTER_BACKEND != "record" or settings.PARTNER_CENTER_RECORD_ONLY:
        return []
    return [
        checks.Error(
            "PARTNER_CENTER_BACKEND is 'record': suspensions and reactivations would be recorded as confirmed "
            "without any call to Microsoft.",
            hint="Set PARTNER_CENTER_BACKEND=http to call Partner Center, or PARTNER_CENTER_RECORD_ONLY=true "
            "to run without Partner Center on purpose (staff then see that Microsoft is not called).",
            id="portal.E001",
        )
    ]


def _is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@checks.register(TAG, deploy=True)
def check_portal_base_url(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    url = settings.PORTAL_BASE_URL
    host = urlsplit(url).hostname or ""
    if host and not _is_loopback(host):
        return []
    return [
        checks.Error(
            f"PORTAL_BASE_URL is {url!r}: links in the emails the portal sends would point at this machine, "
            "not at the portal.",
            hint="Set PORTAL_BASE_URL to the portal's public address, e.g. https://portal.example.com.",
            id="portal.E002",
        )
    ]


@checks.register(TAG, deploy=True)
def check_email_backend(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    # The configured backend, inside the wrapper that counts send failures.
    backend = getattr(settings, "METERED_EMAIL_BACKEND", "") or settings.EMAIL_BACKEND
    what = NON_SENDING_EMAIL_BACKENDS.get(backend)
    if what is None:
        return []
    return [
        checks.Error(
            f"The email backend {what} instead of sending them: invitations, password resets and collection "
            "notices would never arrive.",
            hint="Set EMAIL_URL to the SMTP server, e.g. smtp+tls://user:password@smtp.example.com:587.",
            id="portal.E003",
        )
    ]


def _secret_key_is_weak(key: str) -> bool:
    return (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS
        or key.startswith(("insecure", "django-insecure-"))
        or "change-me" in key
    )


@checks.register(TAG, deploy=True)
def check_secret_key(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to read an empty key
        key = ""
    if not _secret_key_is_weak(key or ""):
        return []
    return [
        checks.Error(
            "SECRET_KEY is missing, a default or too weak: anyone who knows it can sign in as any user.",
            hint="Set SECRET_KEY to a random string of at least 50 characters, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'.",
            id="portal.E004",
        )
    ]


@checks.register(TAG, deploy=True)
def check_broker(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    url = settings.CELERY_BROKER_URL
    try:
        with Connection(url, connect_timeout=3, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable; the reason is reported
        return [
            checks.Error(
                f"The Celery broker is not reachable ({exc.__class__.__name__}): no background job, email or "
                "Partner Center change would be processed.",
                hint="Set REDIS_URL to a Redis server this process can reach, e.g. redis://redis:6379/0.",
                id="portal.E005",
            )
        ]
    return []


def refuse_half_configured(process: str) -> None:
    """Stop `process` with every deploy error's message when DEBUG is off; nothing otherwise."""
    if settings.DEBUG or not settings.PORTAL_DEPLOY_CHECKS_AT_START:
        return
    errors = [m for m in checks.run_checks(include_deployment_checks=True, tags=[TAG]) if m.is_serious()]
    if not errors:
        return
    lines = [f"The {process} refuses to start: the deployment is not fully configured."]
    lines += [f"{m.id}: {m.msg} {m.hint}" for m in errors]
    raise SystemExit("\n".join(lines))
