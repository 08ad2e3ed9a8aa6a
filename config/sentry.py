"""Errors from the web processes and the workers go to Sentry when SENTRY_DSN is set."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

DISTRIBUTION = "csp-billing-portal"


def default_release() -> str:
    try:
        return f"{DISTRIBUTION}@{version(DISTRIBUTION)}"
    except PackageNotFoundError:  # the code runs from a checkout that was never installed
        return f"{DISTRIBUTION}@unknown"


def init_sentry(dsn: str, *, environment: str, release: str, transport: Any = None) -> None:
    """sentry-sdk with its Django and Celery integrations; no personal data unless asked for."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or default_release(),
        # No user emails, IP addresses, cookies or request bodies: the portal holds customers' billing data.
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=0.0,
        transport=transport,
    )
