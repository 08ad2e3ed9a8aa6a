from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from rest_framework.test import APIClient

from tests.conftest import Tenant
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_token_for_email_and_password_then_token_auth(tenant: Tenant) -> None:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"email": tenant.finance.email, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert {c["name"] for c in client.get("/api/v1/customers/").json()["results"]} == {
        "Alpha Customer One",
        "Alpha Customer Two",
    }


def test_wrong_password_is_refused_and_then_throttled(tenant: Tenant) -> None:
    client = APIClient()
    for _ in range(5):
        response = client.post("/api/v1/auth/token/", {"email": tenant.finance.email, "password": "wrong"})
        assert response.status_code == 401
    # Even the right password is refused while the failures are counted.
    response = client.post("/api/v1/auth/token/", {"email": tenant.finance.email, "password": PASSWORD})
    assert response.status_code == 429


def test_a_user_with_totp_must_send_a_valid_code(tenant: Tenant) -> None:
    secret = generate_totp_secret()
    TOTP.activate(tenant.admin, secret)
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"email": tenant.admin.email, "password": PASSWORD})
    assert response.status_code == 401
    assert "code" in str(response.json())
    assert (
        client.post(
            "/api/v1/auth/token/", {"email": tenant.admin.email, "password": PASSWORD, "code": "000000"}
        ).status_code
        == 401
    )
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    response = client.post("/api/v1/auth/token/", {"email": tenant.admin.email, "password": PASSWORD, "code": code})
    assert response.status_code == 200
    assert Authenticator.objects.filter(user=tenant.admin).count() == 1


def test_a_user_without_membership_gets_no_token(db: None) -> None:
    from tests.factories import UserFactory

    user = UserFactory()
    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401
