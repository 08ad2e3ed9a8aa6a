"""Sign-ins, failed sign-ins, lockouts and API token issuance are audited under the account's partner."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from partner_portal.audit_labels import ACTION_LABELS
from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_a_sign_in_is_audited_under_the_users_partner(tenant: Tenant, other_tenant: Tenant) -> None:
    assert _login(Client(), tenant.customer_member.email).status_code == 302
    [event] = _events("auth.signed_in")
    assert event.partner == tenant.partner
    assert event.customer == tenant.customer
    assert event.actor == tenant.customer_member
    assert event.data == {"channel": "page"}
    assert not AuditEvent.objects.filter(partner=other_tenant.partner).exists()


def test_a_failed_sign_in_is_audited_without_an_actor(tenant: Tenant, other_tenant: Tenant) -> None:
    assert _login(Client(), tenant.agent.email, "wrong-password").status_code == 200
    [event] = _events("auth.sign_in_failed")
    assert event.partner == tenant.partner
    assert event.actor is None
    assert event.target_id == str(tenant.agent.pk)
    assert not AuditEvent.objects.filter(partner=other_tenant.partner).exists()


def test_a_failed_sign_in_for_an_unknown_address_is_only_logged_without_the_address(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="partner_portal.signin"):
        _login(Client(), "stranger@example.net", "wrong-password")
    assert not AuditEvent.objects.exists()
    assert any("auth.sign_in_failed" in record.getMessage() for record in caplog.records)
    assert "stranger@example.net" not in caplog.text


def test_a_lockout_on_the_sign_in_page_is_audited(tenant: Tenant) -> None:
    client = Client()
    for _ in range(6):
        _login(client, tenant.agent.email, "wrong-password")
    [event] = _events("auth.locked_out")
    assert event.partner == tenant.partner
    assert event.target_id == str(tenant.agent.pk)


def test_token_issuance_failure_and_lockout_are_audited(tenant: Tenant, other_tenant: Tenant) -> None:
    client = APIClient()
    assert client.post("/api/v1/auth/token/", {"email": tenant.finance.email, "password": PASSWORD}).status_code == 200
    [issued] = _events("auth.token_issued")
    assert (issued.partner, issued.actor) == (tenant.partner, tenant.finance)
    assert (issued.data["channel"], issued.data["name"]) == ("api", "API")
    for _ in range(5):
        client.post("/api/v1/auth/token/", {"email": tenant.finance.email, "password": "wrong"})
    assert len(_events("auth.sign_in_failed")) == 5
    assert client.post("/api/v1/auth/token/", {"email": tenant.finance.email, "password": PASSWORD}).status_code == 429
    [locked] = _events("auth.locked_out")
    assert locked.partner == tenant.partner
    assert not AuditEvent.objects.filter(partner=other_tenant.partner).exists()


def test_the_actions_have_readable_labels() -> None:
    with translation.override("en"):
        assert str(ACTION_LABELS["auth.signed_in"]) == "Signed in"
    with translation.override("ru"):
        assert str(ACTION_LABELS["auth.locked_out"]) == "Вход отклонён: слишком много неудачных попыток"
        assert str(ACTION_LABELS["auth.token_issued"]) == "Выдан токен API"
