"""Shared fixtures: two partners with staff and customer users, clients signed in as each.

Under CI=true the suite refuses to run without PostgreSQL, Redis and Chromium, so nothing that
needs them can be skipped silently.
"""

from __future__ import annotations

import os
import shutil
import socket
import urllib.parse
from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from partner_portal.models import Customer, Partner, Role, User
from tests.factories import CustomerFactory, PartnerFactory, member

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _reachable(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=3).close()
    except OSError:
        return False
    return True


def pytest_configure(config: pytest.Config) -> None:
    if not CI:
        return
    problems = []
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must point at PostgreSQL")
    elif not _reachable(database_url):
        problems.append(f"PostgreSQL at {database_url} is not reachable")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis://"):
        problems.append("REDIS_URL must point at Redis")
    elif not _reachable(redis_url):
        problems.append(f"Redis at {redis_url} is not reachable")
    if not shutil.which(CHROMIUM) and not os.access(CHROMIUM, os.X_OK):
        problems.append(f"Chromium is missing at {CHROMIUM}")
    if problems:
        raise pytest.UsageError("CI=true but: " + "; ".join(problems))


def require(condition: bool, reason: str) -> None:
    """Skip locally when a service is missing; under CI the same gap is a failure."""
    if condition:
        return
    if CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@dataclass
class Tenant:
    """A partner with one user per role and two customers, each with a customer admin."""

    partner: Partner
    customer: Customer
    other_customer: Customer
    admin: User
    finance: User
    agent: User
    customer_admin: User
    customer_member: User
    other_customer_admin: User


def make_tenant(name: str) -> Tenant:
    partner = PartnerFactory(name=f"{name} Partners", slug=name.lower())
    customer = CustomerFactory(partner=partner, name=f"{name} Customer One")
    other = CustomerFactory(partner=partner, name=f"{name} Customer Two")
    return Tenant(
        partner=partner,
        customer=customer,
        other_customer=other,
        admin=member(partner, Role.PARTNER_ADMIN),
        finance=member(partner, Role.FINANCE),
        agent=member(partner, Role.SUPPORT_AGENT),
        customer_admin=member(partner, Role.CUSTOMER_ADMIN, customer=customer),
        customer_member=member(partner, Role.CUSTOMER_MEMBER, customer=customer),
        other_customer_admin=member(partner, Role.CUSTOMER_ADMIN, customer=other),
    )


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant("Alpha")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return make_tenant("Beta")


@pytest.fixture
def client_for():
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_for():
    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request activates its user's language in the thread and nothing deactivates it; each test
    starts, and ends, in the default language so a Russian page does not translate the next test."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what services schedule after commit (emails, tasks), as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def partner_center(settings):
    """A stand-in Partner Center and sign-in authority over TLS on a local port
    (tests/fakes/partner_center.py), with the http backend pointed at it, its test CA handed over
    through PARTNER_CENTER_CA_BUNDLE, and short time-outs and pauses. `partner_center.connect(partner)`
    gives a partner its account."""
    from tests.fakes.partner_center import FakePartnerCenter

    with FakePartnerCenter() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        settings.PARTNER_CENTER_TIMEOUT_SECONDS = 1.0
        settings.PARTNER_CENTER_CALL_TRIES = 3
        settings.PARTNER_CENTER_CALL_BACKOFF_SECONDS = 0.05
        settings.PARTNER_CENTER_POLL_SECONDS = 0.05
        yield fake


@pytest.fixture
def stripe_fake(settings):
    """A stand-in Stripe API over TLS on a local port (tests/fakes/stripe.py), with the Stripe client
    pointed at it and its test CA trusted (verification stays on)."""
    from tests.fakes.stripe import FakeStripe

    with FakeStripe() as fake:
        settings.STRIPE_API_URL = fake.url
        settings.STRIPE_CA_BUNDLE = fake.ca_bundle
        settings.STRIPE_TIMEOUT_SECONDS = 5
        yield fake


@pytest.fixture
def storecove(settings):
    """A stand-in Storecove API over TLS on a local port (tests/fakes/storecove.py), with the portal's
    client pointed at it, its test CA trusted and a short time-out (verification stays on)."""
    from tests.fakes.storecove import FakeStorecove

    with FakeStorecove() as fake:
        settings.STORECOVE_API_URL = fake.url
        settings.STORECOVE_CA_BUNDLE = fake.ca_bundle
        settings.STORECOVE_TIMEOUT_SECONDS = 0.5
        fake.slow_seconds = 1.5
        yield fake


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Files the portal writes (exports, uploads) go to a fresh folder per test."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _celery_join_allowed() -> None:
    """Celery keeps "inside an eager task" in one process-wide flag that each eager run saves and
    restores; two threads running eager tasks at once (the concurrency tests) can leave it set, which
    would make a later test's `result.get()` refuse to wait. Each test starts outside any task."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
