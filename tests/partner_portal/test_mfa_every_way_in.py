"""With MFA required, the password alone opens nothing: not the pages, not the session API, not a token."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from rest_framework.test import APIClient

from partner_portal.models import ApiToken
from tests.conftest import Tenant
from tests.factories import PASSWORD, api_token

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
CUSTOMERS = "/api/v1/customers/"


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def _password_login(client: APIClient, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD}, format="multipart")


@pytest.fixture(autouse=True)
def _require_mfa(settings) -> None:
    settings.PORTAL_MFA_REQUIRED = True


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_a_user_who_must_enrol_gets_no_token_with_the_password(tenant: Tenant, role: str) -> None:
    user = getattr(tenant, role)
    response = APIClient().post(TOKEN_URL, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]
    assert not ApiToken.objects.filter(user=user).exists()


def test_a_role_without_the_requirement_still_gets_a_token(tenant: Tenant) -> None:
    response = APIClient().post(TOKEN_URL, {"email": tenant.agent.email, "password": PASSWORD})
    assert response.status_code == 200


def test_a_token_issued_before_the_requirement_is_refused_until_enrolment(tenant: Tenant) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(tenant.finance)}")
    assert client.patch(f"{CUSTOMERS}{tenant.customer.pk}/", {"name": "Renamed"}).status_code == 403
    assert client.get(CUSTOMERS).status_code == 403
    tenant.customer.refresh_from_db()
    assert tenant.customer.name == "Alpha Customer One"
    TOTP.activate(tenant.finance, generate_totp_secret())
    assert client.get(CUSTOMERS).status_code == 200


def test_a_password_only_session_cannot_use_the_api(tenant: Tenant) -> None:
    client = APIClient()
    assert _password_login(client, tenant.finance.email).status_code == 302
    response = client.get(CUSTOMERS)
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]
    response = client.patch(f"{CUSTOMERS}{tenant.customer.pk}/", {"name": "Renamed"})
    assert response.status_code == 403
    tenant.customer.refresh_from_db()
    assert tenant.customer.name == "Alpha Customer One"
    # The pages send the same session to enrolment.
    assert client.get("/staff/customers/")["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.django_db(transaction=True)  # allauth announces the enrolment after commit, as in production
def test_enrolling_in_the_session_completes_its_second_factor(tenant: Tenant) -> None:
    client = APIClient()
    _password_login(client, tenant.finance.email)
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD}, format="multipart")
    assert client.get(CUSTOMERS).status_code == 403  # a password again is still one factor
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)}, format="multipart")
    assert response.status_code == 302
    assert client.get(CUSTOMERS).status_code == 200
    assert client.get("/staff/customers/").status_code == 200


def test_a_session_that_skipped_the_code_stage_is_refused_on_the_api_and_pages(tenant: Tenant) -> None:
    TOTP.activate(tenant.admin, generate_totp_secret())
    client = APIClient()
    client.force_login(tenant.admin)  # a session made without allauth's second-factor stage
    assert client.get(CUSTOMERS).status_code == 403
    location = client.get("/staff/customers/")["Location"]
    assert location.startswith("/accounts/2fa/reauthenticate/")


def test_a_session_signed_in_with_password_and_code_uses_the_api(tenant: Tenant) -> None:
    secret = generate_totp_secret()
    TOTP.activate(tenant.admin, secret)
    client = APIClient()
    assert _password_login(client, tenant.admin.email)["Location"] == "/accounts/2fa/authenticate/"
    assert client.get(CUSTOMERS).status_code in (401, 403)  # not signed in yet
    response = client.post("/accounts/2fa/authenticate/", {"code": _code(secret)}, format="multipart")
    assert response.status_code == 302
    assert client.get(CUSTOMERS).status_code == 200
    assert client.get("/staff/customers/").status_code == 200
