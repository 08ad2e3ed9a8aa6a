"""Sign-in with django-allauth: email login, verification, reset, MFA enforcement, invitations."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from django.test import Client

from partner_portal import services
from partner_portal.errors import InvitationInvalid
from partner_portal.models import AuditEvent, Invitation, Membership, Role, User
from tests.conftest import Tenant
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


@pytest.mark.parametrize(
    ("role", "home"),
    [("admin", "/staff/"), ("agent", "/staff/"), ("customer_admin", "/my/"), ("customer_member", "/my/")],
)
def test_after_login_each_role_lands_on_its_home(tenant: Tenant, role: str, home: str) -> None:
    client = Client()
    response = _login(client, getattr(tenant, role).email)
    assert response.status_code == 302
    assert response["Location"] == home
    assert client.get(home).status_code == 200


def test_wrong_password_shows_an_error_and_signs_nobody_in(tenant: Tenant) -> None:
    client = Client()
    response = _login(client, tenant.agent.email, "wrong-password")
    assert response.status_code == 200
    assert b"not correct" in response.content
    assert client.get("/staff/").status_code == 302


def test_login_failures_are_rate_limited(tenant: Tenant) -> None:
    client = Client()
    for _ in range(5):
        _login(client, tenant.agent.email, "wrong-password")
    # allauth's default limit: 5 failures per account in 5 minutes lock even the right password out.
    response = _login(client, tenant.agent.email)
    assert response.status_code in (200, 429)
    assert client.get("/staff/").status_code == 302


def test_an_unverified_email_must_be_verified_before_signing_in(tenant: Tenant) -> None:
    EmailAddress.objects.filter(user=tenant.agent).update(verified=False)
    client = Client()
    response = _login(client, tenant.agent.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/staff/").status_code == 302
    assert len(mail.outbox) == 1
    assert tenant.agent.email in mail.outbox[0].to


def test_password_reset_sends_a_link_that_sets_a_new_password(tenant: Tenant) -> None:
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": tenant.agent.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0], {"password1": "a-new-long-password-42", "password2": "a-new-long-password-42"}
    )
    assert response.status_code == 302
    assert _login(Client(), tenant.agent.email, "a-new-long-password-42")["Location"] == "/staff/"


def test_open_signup_is_closed(db: None) -> None:
    response = Client().post(
        "/accounts/signup/", {"email": "intruder@example.com", "password1": "x" * 12, "password2": "x" * 12}
    )
    assert not User.objects.filter(email="intruder@example.com").exists()
    assert response.status_code in (200, 403)


class TestMfaRequired:
    @pytest.fixture(autouse=True)
    def _require_mfa(self, settings) -> None:
        settings.PORTAL_MFA_REQUIRED = True

    @pytest.mark.parametrize("role", ["admin", "finance"])
    def test_admins_and_finance_are_sent_to_enrol_totp(self, tenant: Tenant, client_for, role: str) -> None:
        response = client_for(getattr(tenant, role)).get("/staff/customers/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/2fa/totp/activate/"

    def test_agents_and_customers_are_not_forced(self, tenant: Tenant, client_for) -> None:
        assert client_for(tenant.agent).get("/staff/customers/").status_code == 200
        assert client_for(tenant.customer_admin).get("/my/").status_code == 200

    def test_with_totp_enrolled_the_admin_gets_in(self, tenant: Tenant) -> None:
        secret = generate_totp_secret()
        TOTP.activate(tenant.admin, secret)
        client = Client()
        _login(client, tenant.admin.email)
        code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
        assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
        assert client.get("/staff/customers/").status_code == 200

    def test_login_with_totp_asks_for_the_code(self, tenant: Tenant) -> None:
        TOTP.activate(tenant.admin, generate_totp_secret())
        response = _login(Client(), tenant.admin.email)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/2fa/authenticate/"


class TestInvitations:
    def test_admin_invites_staff_who_accepts_and_lands_on_the_dashboard(
        self, tenant: Tenant, client_for, on_commit
    ) -> None:
        with on_commit():
            response = client_for(tenant.admin).post(
                "/staff/team/", {"email": "New.Agent@Example.com", "role": Role.SUPPORT_AGENT}
            )
        assert response.status_code == 302
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["new.agent@example.com"]
        assert tenant.partner.name in message.body
        link = re.search(r"http://testserver(/invitations/[\w-]+/)", message.body).group(1)

        visitor = Client()
        assert visitor.get(link).status_code == 200
        response = visitor.post(
            link, {"full_name": "New Agent", "password1": "a-long-password-42", "password2": "a-long-password-42"}
        )
        assert response.status_code == 302
        assert visitor.get("/", follow=True).redirect_chain[-1][0] == "/staff/"
        membership = Membership.objects.get(user__email="new.agent@example.com")
        assert (membership.partner, membership.role, membership.customer) == (tenant.partner, Role.SUPPORT_AGENT, None)
        assert EmailAddress.objects.get(user=membership.user).verified
        assert AuditEvent.objects.filter(action="invitation.accepted", partner=tenant.partner).count() == 1
        # The link works once.
        assert Client().get(link).status_code == 404

    def test_admin_invites_a_customer_user_in_the_customers_language(
        self, tenant: Tenant, client_for, on_commit
    ) -> None:
        tenant.customer.language = "ru"
        tenant.customer.save()
        with on_commit():
            response = client_for(tenant.admin).post(
                f"/staff/customers/{tenant.customer.pk}/invite/",
                {"email": "cfo@customer.example", "role": Role.CUSTOMER_MEMBER},
            )
        assert response.status_code == 302
        invitation = Invitation.objects.get(email="cfo@customer.example")
        assert invitation.customer == tenant.customer
        assert len(mail.outbox) == 1
        assert "приглаш" in (mail.outbox[0].subject + mail.outbox[0].body).lower()
        assert "You have been invited" not in mail.outbox[0].body

    def test_mismatched_passwords_keep_the_form_and_create_nothing(self, tenant: Tenant, client_for) -> None:
        client_for(tenant.admin).post("/staff/team/", {"email": "x@example.com", "role": Role.FINANCE})
        token = Invitation.objects.get(email="x@example.com").token
        response = Client().post(
            f"/invitations/{token}/", {"password1": "a-long-password-42", "password2": "different-password-42"}
        )
        assert response.status_code == 400
        assert not User.objects.filter(email="x@example.com").exists()

    @pytest.mark.parametrize("role", ["agent", "finance", "customer_admin"])
    def test_only_partner_admins_invite(self, tenant: Tenant, client_for, role: str) -> None:
        client = client_for(getattr(tenant, role))
        assert client.post("/staff/team/", {"email": "x@example.com", "role": Role.FINANCE}).status_code == 403
        assert (
            client.post(
                f"/staff/customers/{tenant.customer.pk}/invite/",
                {"email": "y@example.com", "role": Role.CUSTOMER_MEMBER},
            ).status_code
            == 403
        )
        assert not Invitation.objects.exists()
        assert mail.outbox == []

    def test_an_existing_member_cannot_be_invited_again(self, tenant: Tenant, client_for) -> None:
        response = client_for(tenant.admin).post("/staff/team/", {"email": tenant.agent.email, "role": Role.FINANCE})
        assert response.status_code == 400
        assert b"already a member of your team" in response.content
        assert not Invitation.objects.exists()

    def test_the_team_page_does_not_tell_that_an_address_has_an_account_at_another_partner(
        self, tenant: Tenant, other_tenant: Tenant, client_for
    ) -> None:
        client = client_for(tenant.admin)
        known = client.post("/staff/team/", {"email": other_tenant.agent.email, "role": Role.FINANCE}, follow=True)
        unknown = client.post("/staff/team/", {"email": "nobody@example.com", "role": Role.FINANCE}, follow=True)
        assert known.status_code == unknown.status_code == 200
        assert b"already" not in known.content
        assert [str(m) for m in known.context["messages"]] == [f"Invitation sent to {other_tenant.agent.email}."]
        assert Invitation.objects.filter(partner=tenant.partner).count() == 2

    def test_the_customer_invite_does_not_tell_that_an_address_has_an_account_at_another_partner(
        self, tenant: Tenant, other_tenant: Tenant, client_for
    ) -> None:
        response = client_for(tenant.admin).post(
            f"/staff/customers/{tenant.customer.pk}/invite/",
            {"email": other_tenant.customer_admin.email, "role": Role.CUSTOMER_MEMBER},
            follow=True,
        )
        assert response.status_code == 200
        assert b"already" not in response.content
        assert Invitation.objects.filter(partner=tenant.partner, email=other_tenant.customer_admin.email).exists()

    def test_an_invitation_to_someone_of_another_partner_is_refused_on_acceptance(
        self, tenant: Tenant, other_tenant: Tenant, client_for
    ) -> None:
        client_for(tenant.admin).post("/staff/team/", {"email": other_tenant.agent.email, "role": Role.FINANCE})
        invitation = Invitation.objects.get(partner=tenant.partner)
        with pytest.raises(InvitationInvalid):
            services.invitation_accept(token=invitation.token, password="Another-long-passphrase-9")
        other_tenant.agent.refresh_from_db()
        assert other_tenant.agent.membership.partner == other_tenant.partner

    def test_an_expired_invitation_is_refused(self, tenant: Tenant, client_for) -> None:
        import datetime as dt

        from partner_portal import clock

        client_for(tenant.admin).post("/staff/team/", {"email": "late@example.com", "role": Role.FINANCE})
        token = Invitation.objects.get().token
        with clock.frozen(clock.now() + dt.timedelta(days=8)):
            response = Client().post(
                f"/invitations/{token}/", {"password1": "a-long-password-42", "password2": "a-long-password-42"}
            )
        assert response.status_code == 404
        assert not User.objects.filter(email="late@example.com").exists()
