"""Failed token requests are throttled per account and per address apart, on the real cache (Redis):
failures for one email lock that email only; an address is locked only after many more failures."""

from __future__ import annotations

import os
import uuid

import pytest
from rest_framework.test import APIClient

from tests.conftest import Tenant
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
OFFICE = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


@pytest.fixture(autouse=True)
def _redis_cache(settings) -> None:
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs REDIS_URL")  # conftest fails the run instead under CI
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",  # this test's own keys; they expire
        }
    }


def _token(email: str, password: str, address: str = OFFICE) -> int:
    return APIClient(REMOTE_ADDR=address).post(TOKEN_URL, {"email": email, "password": password}).status_code


def test_failures_for_one_account_lock_that_account_only(tenant: Tenant) -> None:
    from django.core.cache import caches

    assert type(caches["default"]).__name__ == "RedisCache"
    for _ in range(5):
        assert _token(tenant.finance.email, "wrong-password") == 401
    assert _token(tenant.finance.email, PASSWORD) == 429
    assert _token(tenant.finance.email, PASSWORD, address=ELSEWHERE) == 429  # the account, from anywhere
    # Colleagues behind the same address still get their tokens.
    assert _token(tenant.agent.email, PASSWORD) == 200
    assert _token(tenant.customer_admin.email, PASSWORD) == 200


def test_an_address_is_locked_only_after_many_more_failures(tenant: Tenant) -> None:
    for n in range(50):
        assert _token(f"nobody{n}@example.com", "wrong-password") == 401
    assert _token(tenant.agent.email, PASSWORD) == 429
    assert _token(tenant.agent.email, PASSWORD, address=ELSEWHERE) == 200


def test_a_success_does_not_count(tenant: Tenant) -> None:
    for _ in range(10):
        assert _token(tenant.agent.email, PASSWORD) == 200
