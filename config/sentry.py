"""Errors from the web processes and the workers go to Sentry when SENTRY_DSN is set."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentry_sdk._types import DataCollectionUserOptions

DISTRIBUTION = "csp-billing-portal"


# sentry-sdk's `data_collection` (which replaces `send_default_pii`), set category by category: no user
# identity, no cookies, no request or response bodies, no SQL parameters, no message bodies of queues;
# headers and query parameters only without the ones that name a client, a session or a secret. Local
# variables of stack frames are kept (they are what makes a traceback useful) but scrubbed by name.
NO_PERSONAL_DATA: DataCollectionUserOptions = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {
        "request": {"mode": "denylist", "terms": ["forwarded", "-ip", "remote-", "via", "-user", "cookie"]}
    },
    "http_bodies": [],
    "url_query_params": {"mode": "denylist"},
    "graphql": {"document": False, "variables": False},
    "gen_ai": {"inputs": False, "outputs": False},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": {"mode": "denylist", "terms": ["email", "address"]},
}


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
        data_collection=NO_PERSONAL_DATA,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=0.0,
        transport=transport,
    )
