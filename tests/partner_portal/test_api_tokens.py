"""API tokens end: at their expiry, when revoked by their owner or a partner admin, on a password change.
Several per user, each named; the owner's list never shows a secret."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from partner_portal import clock
from partner_portal.models import ApiToken, AuditEvent
from tests.conftest import Tenant
from tests.factories import PASSWORD, api_token

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
CUSTOMERS = "/api/v1/customers/"


def _with(secret: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {secret}")


def test_each_integration_gets_its_own_named_token_with_an_expiry(tenant: Tenant, settings) -> None:
    settings.API_TOKEN_TTL_DAYS = 30
    with clock.frozen(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)):
        first = APIClient().post(TOKEN_URL, {"email": tenant.finance.email, "password": PASSWORD, "name": "ERP"})
        second = APIClient().post(TOKEN_URL, {"email": tenant.finance.email, "password": PASSWORD, "name": "BI"})
    assert first.status_code == second.status_code == 200
    assert first.json()["name"] == "ERP"
    assert first.json()["expiry"].startswith("2026-12-31T09:00")
    assert first.json()["token"] != second.json()["token"]
    for answer in (first, second):
        assert _with(answer.json()["token"]).get(CUSTOMERS).status_code == 200
    assert AuditEvent.objects.filter(action="auth.token_issued", actor=tenant.finance).count() == 2


def test_a_name_too_long_is_a_400_on_the_field(tenant: Tenant) -> None:
    response = APIClient().post(TOKEN_URL, {"email": tenant.finance.email, "password": PASSWORD, "name": "x" * 101})
    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused(tenant: Tenant, settings) -> None:
    settings.API_TOKEN_TTL_DAYS = 30
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    with clock.frozen(start):
        secret = api_token(tenant.finance)
    with clock.frozen(start + dt.timedelta(days=30) - dt.timedelta(minutes=1)):
        assert _with(secret).get(CUSTOMERS).status_code == 200
    with clock.frozen(start + dt.timedelta(days=30)):
        response = _with(secret).get(CUSTOMERS)
        assert response.status_code == 401
        # The owner still sees it in their list, as expired, until they remove it.
        listed = _with(api_token(tenant.finance, "Renewed")).get(TOKENS).json()["results"]
    assert {(t["name"], t["expired"]) for t in listed} == {("Tests", True), ("Renewed", False)}


def test_the_owner_lists_tokens_without_any_part_of_the_secret(tenant: Tenant) -> None:
    secrets = [api_token(tenant.agent, "Helpdesk sync"), api_token(tenant.agent, "Reports")]
    api_token(tenant.finance, "Someone else's")
    response = _with(secrets[0]).get(TOKENS)
    assert response.status_code == 200
    assert [t["name"] for t in response.json()["results"]] == ["Reports", "Helpdesk sync"]
    assert set(response.json()["results"][0]) == {"id", "name", "created", "expiry", "expired"}
    body = response.content.decode()
    for secret in secrets:
        assert secret[:8] not in body
    for token in ApiToken.objects.all():
        assert token.digest not in body
        assert token.token_key not in body


def test_the_owner_revokes_a_token_and_it_is_refused(tenant: Tenant) -> None:
    keep, drop = api_token(tenant.customer_admin, "Keep"), api_token(tenant.customer_admin, "Drop")
    drop_id = ApiToken.objects.get(name="Drop").pk
    assert _with(keep).delete(f"{TOKENS}{drop_id}/").status_code == 204
    assert _with(drop).get(CUSTOMERS).status_code == 401
    assert _with(keep).get(CUSTOMERS).status_code == 200
    event = AuditEvent.objects.get(action="auth.token_revoked")
    assert (event.actor, event.data["name"]) == (tenant.customer_admin, "Drop")


def test_nobody_revokes_another_users_token_through_the_api(tenant: Tenant, other_tenant: Tenant) -> None:
    api_token(tenant.finance, "Finance's")
    target = ApiToken.objects.get(name="Finance's").pk
    for user in (tenant.admin, tenant.agent, other_tenant.admin):
        assert _with(api_token(user)).delete(f"{TOKENS}{target}/").status_code == 404
    assert ApiToken.objects.filter(pk=target).exists()


def test_the_owner_revokes_from_the_security_page(tenant: Tenant, client_for) -> None:
    secret = api_token(tenant.agent, "Helpdesk sync")
    client = client_for(tenant.agent)
    page = client.get("/accounts/2fa/")
    assert "Helpdesk sync" in page.content.decode()
    assert secret not in page.content.decode()
    token = ApiToken.objects.get()
    response = client.post(f"/account/api-tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert _with(secret).get(CUSTOMERS).status_code == 401
    # Someone else's token is not found from this page.
    api_token(tenant.finance, "Finance's")
    assert client.post(f"/account/api-tokens/{ApiToken.objects.get().pk}/revoke/").status_code == 404


def test_a_partner_admin_revokes_a_members_token_on_the_team_page(tenant: Tenant, client_for) -> None:
    secret = api_token(tenant.customer_member, "Customer's ERP")
    admin = client_for(tenant.admin)
    page = admin.get("/staff/team/").content.decode()
    assert "Customer&#x27;s ERP" in page
    assert tenant.customer_member.email in page
    assert secret not in page
    token = ApiToken.objects.get()
    assert client_for(tenant.finance).post(f"/staff/team/api-tokens/{token.pk}/revoke/").status_code == 403
    assert admin.post(f"/staff/team/api-tokens/{token.pk}/revoke/").status_code == 302
    assert _with(secret).get(CUSTOMERS).status_code == 401
    event = AuditEvent.objects.get(action="auth.token_revoked")
    assert (event.actor, event.data["email"]) == (tenant.admin, tenant.customer_member.email)


def test_a_partner_admin_cannot_revoke_another_partners_members_token(
    tenant: Tenant, other_tenant: Tenant, client_for
) -> None:
    secret = api_token(other_tenant.finance, "Beta's ERP")
    token = ApiToken.objects.get()
    admin = client_for(tenant.admin)
    assert "Beta&#x27;s ERP" not in admin.get("/staff/team/").content.decode()
    assert admin.post(f"/staff/team/api-tokens/{token.pk}/revoke/").status_code == 404
    assert _with(secret).get(CUSTOMERS).status_code == 200


def test_a_password_change_revokes_every_token(tenant: Tenant, client_for) -> None:
    secrets = [api_token(tenant.agent, "One"), api_token(tenant.agent, "Two")]
    other = api_token(tenant.finance)
    response = client_for(tenant.agent).post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-new-long-passphrase-7", "password2": "a-new-long-passphrase-7"},
    )
    assert response.status_code == 302
    for secret in secrets:
        assert _with(secret).get(CUSTOMERS).status_code == 401
    assert _with(other).get(CUSTOMERS).status_code == 200
    event = AuditEvent.objects.get(action="auth.tokens_revoked")
    assert (event.data["count"], event.data["reason"]) == (2, "password")
