"""Every way a password is set and every way an account is deactivated ends all of the account's API
tokens, with one audit event naming who did it; a save that changes neither keeps them."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from partner_portal.models import ApiToken, AuditEvent, User
from tests.conftest import Tenant
from tests.factories import PASSWORD, api_token

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
NEW = "a-new-long-passphrase-7"


def _works(secret: str) -> bool:
    status = APIClient(HTTP_AUTHORIZATION=f"Token {secret}").get(CUSTOMERS).status_code
    assert status in (200, 401)
    return status == 200


def _revoked(user: User, *, count: int, reason: str, actor: User | None) -> None:
    assert not ApiToken.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="auth.tokens_revoked")
    assert (event.target_id, event.data["count"], event.data["reason"]) == (str(user.pk), count, reason)
    assert event.actor_id == (actor.pk if actor else None)
    assert event.partner_id == user.membership.partner_id


@pytest.fixture
def site_admin(db: None) -> User:
    """A Django admin operator: no portal membership, admin access only."""
    return User.objects.create_superuser("operator@example.com", PASSWORD)


def test_a_password_reset_through_the_emailed_link_revokes_every_token(tenant: Tenant) -> None:
    secrets = [api_token(tenant.agent, "One"), api_token(tenant.agent, "Two")]
    kept = api_token(tenant.finance)
    client = Client()
    assert client.post("/accounts/password/reset/", {"email": tenant.agent.email}).status_code == 302
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert client.post(form.redirect_chain[-1][0], {"password1": NEW, "password2": NEW}).status_code == 302
    assert not any(_works(s) for s in secrets)
    assert _works(kept)
    _revoked(tenant.agent, count=2, reason="password", actor=None)  # nobody is signed in on a reset


def test_setting_a_first_password_revokes_every_token(tenant: Tenant, client_for) -> None:
    User.objects.filter(pk=tenant.agent.pk).update(password="!unusable")  # invited, never set one
    tenant.agent.refresh_from_db()
    secret = api_token(tenant.agent)
    response = client_for(tenant.agent).post("/accounts/password/set/", {"password1": NEW, "password2": NEW})
    assert response.status_code == 302
    assert not _works(secret)
    _revoked(tenant.agent, count=1, reason="password", actor=tenant.agent)


def test_a_password_changed_in_the_django_admin_revokes_every_token(
    tenant: Tenant, site_admin: User, client_for
) -> None:
    secret = api_token(tenant.agent)
    response = client_for(site_admin).post(
        f"/admin/partner_portal/user/{tenant.agent.pk}/password/",
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not _works(secret)
    _revoked(tenant.agent, count=1, reason="password", actor=site_admin)


def test_an_account_deactivated_in_the_django_admin_loses_every_token(
    tenant: Tenant, site_admin: User, client_for
) -> None:
    secret = api_token(tenant.agent)
    admin = client_for(site_admin)
    agent = tenant.agent
    response = admin.post(
        f"/admin/partner_portal/user/{agent.pk}/change/",
        {
            "email": agent.email, "full_name": "Renamed", "language": agent.language, "is_staff": "",
            "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
            "is_active": "",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=agent.pk).is_active is False
    assert not ApiToken.objects.filter(user=agent).exists()
    assert not _works(secret)
    _revoked(agent, count=1, reason="deactivated", actor=site_admin)


def test_deactivating_on_the_team_page_revokes_every_token_as_the_admins_doing(tenant: Tenant, client_for) -> None:
    secret = api_token(tenant.agent)
    response = client_for(tenant.admin).post(
        f"/staff/team/members/{tenant.agent.membership.pk}/", {"action": "deactivate"}
    )
    assert response.status_code == 302
    assert not _works(secret)
    _revoked(tenant.agent, count=1, reason="deactivated", actor=tenant.admin)
    assert AuditEvent.objects.filter(action="member.deactivated").count() == 1


def test_set_password_in_code_revokes_every_token_as_the_systems_doing(tenant: Tenant) -> None:
    secret = api_token(tenant.finance)
    user = User.objects.get(pk=tenant.finance.pk)
    user.set_password(NEW)
    user.save()
    assert not _works(secret)
    _revoked(tenant.finance, count=1, reason="password", actor=None)


def test_switching_password_sign_in_off_revokes_every_token(tenant: Tenant) -> None:
    api_token(tenant.finance)
    user = User.objects.get(pk=tenant.finance.pk)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    _revoked(tenant.finance, count=1, reason="password", actor=None)


def test_saves_that_change_neither_password_nor_activity_keep_the_tokens(tenant: Tenant, settings) -> None:
    secret = api_token(tenant.finance)
    user = User.objects.get(pk=tenant.finance.pk)
    user.full_name = "Fiona Finance"
    user.save()
    User.objects.only("email").get(pk=user.pk).save(update_fields=["email"])  # a deferred load costs nothing
    # A sign-in that upgrades the stored hash to the preferred hasher keeps the same password.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    old_hash = user.password
    assert user.check_password(PASSWORD)
    assert User.objects.get(pk=user.pk).password != old_hash
    assert _works(secret)
    assert not AuditEvent.objects.filter(action="auth.tokens_revoked").exists()


def test_a_new_user_and_a_reactivation_revoke_nothing(tenant: Tenant, client_for) -> None:
    client_for(tenant.admin).post(f"/staff/team/members/{tenant.agent.membership.pk}/", {"action": "deactivate"})
    client_for(tenant.admin).post(f"/staff/team/members/{tenant.agent.membership.pk}/", {"action": "reactivate"})
    assert User.objects.get(pk=tenant.agent.pk).is_active is True
    secret = api_token(tenant.agent)
    User.objects.create_user("new@example.com", PASSWORD)
    assert _works(secret)
    assert AuditEvent.objects.filter(action="auth.tokens_revoked").count() == 0  # the agent had no token then
