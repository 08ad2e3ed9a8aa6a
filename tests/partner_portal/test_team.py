"""Team management: partner admins change roles, deactivate and reactivate members, send an invitation
again or revoke it. The partner always keeps an active admin; every change is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from partner_portal import clock
from partner_portal.errors import InvitationInvalid, RoleNotAllowed, TeamChangeRefused
from partner_portal.models import ApiToken, AuditEvent, Invitation, Membership, Role
from partner_portal.services import (
    InvitationRequest,
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    membership_deactivate,
    membership_reactivate,
    membership_role_change,
)
from tests.conftest import Tenant
from tests.factories import PASSWORD, api_token

pytestmark = pytest.mark.django_db
TEAM = "/staff/team/"


def _membership(user) -> Membership:
    return Membership.objects.get(user=user)


def _invite(tenant: Tenant, email: str = "new.colleague@example.com") -> Invitation:
    return invitation_create(
        partner=tenant.partner,
        actor=tenant.admin,
        request=InvitationRequest(email=email, role=Role.SUPPORT_AGENT),
        base_url="https://portal.example",
    )


# ---- Services ---------------------------------------------------------------------------------------


def test_a_role_changes_within_its_side_and_is_audited(tenant: Tenant) -> None:
    membership_role_change(membership=_membership(tenant.agent), actor=tenant.admin, role=Role.FINANCE)
    assert _membership(tenant.agent).role == Role.FINANCE
    event = AuditEvent.objects.get(action="member.role_changed")
    assert (event.actor, event.data["from"], event.data["to"]) == (tenant.admin, "support_agent", "finance")

    with pytest.raises(RoleNotAllowed) as refused:
        membership_role_change(membership=_membership(tenant.agent), actor=tenant.admin, role=Role.CUSTOMER_ADMIN)
    assert refused.value.fields == {"role": ["Choose one of the roles this member can have."]}
    with pytest.raises(RoleNotAllowed):
        membership_role_change(
            membership=_membership(tenant.customer_member), actor=tenant.admin, role=Role.PARTNER_ADMIN
        )
    assert _membership(tenant.customer_member).role == Role.CUSTOMER_MEMBER


def test_the_last_active_partner_admin_cannot_be_demoted_or_deactivated(tenant: Tenant) -> None:
    with pytest.raises(TeamChangeRefused, match="the only partner admin"):
        membership_role_change(membership=_membership(tenant.admin), actor=tenant.finance, role=Role.FINANCE)
    with pytest.raises(TeamChangeRefused, match="the only partner admin"):
        membership_deactivate(membership=_membership(tenant.admin), actor=tenant.finance)
    # With a second admin, the first one can step down.
    membership_role_change(membership=_membership(tenant.finance), actor=tenant.admin, role=Role.PARTNER_ADMIN)
    membership_role_change(membership=_membership(tenant.admin), actor=tenant.finance, role=Role.FINANCE)
    assert _membership(tenant.admin).role == Role.FINANCE


def test_a_deactivated_member_is_signed_out_loses_tokens_and_can_come_back(tenant: Tenant) -> None:
    client = Client()
    client.force_login(tenant.agent)
    assert client.get("/staff/tickets/").status_code == 200
    secret = api_token(tenant.agent)

    membership_deactivate(membership=_membership(tenant.agent), actor=tenant.admin)
    tenant.agent.refresh_from_db()
    assert tenant.agent.is_active is False
    assert not ApiToken.objects.filter(user=tenant.agent).exists()
    assert APIClient(HTTP_AUTHORIZATION=f"Token {secret}").get("/api/v1/customers/").status_code == 401
    assert client.get("/staff/tickets/").status_code == 302  # the open session ends on its next request
    assert not Client().login(email=tenant.agent.email, password=PASSWORD)
    assert AuditEvent.objects.filter(action="member.deactivated", actor=tenant.admin).count() == 1

    membership_reactivate(membership=_membership(tenant.agent), actor=tenant.admin)
    assert Client().login(email=tenant.agent.email, password=PASSWORD)
    assert AuditEvent.objects.filter(action="member.reactivated").count() == 1


def test_nobody_deactivates_themselves(tenant: Tenant) -> None:
    with pytest.raises(TeamChangeRefused, match="cannot deactivate yourself"):
        membership_deactivate(membership=_membership(tenant.finance), actor=tenant.finance)


def test_a_revoked_invitation_no_longer_opens_an_account(tenant: Tenant) -> None:
    invitation = _invite(tenant)
    invitation_revoke(invitation=invitation, actor=tenant.admin)
    with pytest.raises(InvitationInvalid):
        invitation_accept(token=invitation.token, password="a-Long-passw0rd!")
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


def test_sending_again_gives_a_new_link_and_kills_the_old_one(tenant: Tenant, on_commit) -> None:
    invitation = _invite(tenant)
    old_token = invitation.token
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=clock.now() - dt.timedelta(days=1))
    mail.outbox.clear()

    with on_commit():
        invitation = invitation_resend(invitation=invitation, actor=tenant.admin, base_url="https://portal.example")
    assert invitation.token != old_token
    assert invitation.expires_at > clock.now() + dt.timedelta(days=6)
    assert len(mail.outbox) == 1
    assert f"https://portal.example/invitations/{invitation.token}/" in mail.outbox[0].body
    with pytest.raises(InvitationInvalid):
        invitation_accept(token=old_token, password="a-Long-passw0rd!")
    user = invitation_accept(token=invitation.token, password="a-Long-passw0rd!")
    assert user.membership.role == Role.SUPPORT_AGENT
    with pytest.raises(InvitationInvalid):  # accepted: nothing to send again
        invitation_resend(invitation=invitation, actor=tenant.admin, base_url="https://portal.example")


# ---- Pages ------------------------------------------------------------------------------------------


def test_admins_manage_the_team_from_the_page(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.admin)
    agent = _membership(tenant.agent)
    html = client.get(TEAM).content.decode()
    assert f'action="/staff/team/members/{agent.pk}/"' in html
    assert f'action="/staff/team/members/{_membership(tenant.admin).pk}/"' not in html  # not on one's own row

    response = client.post(f"/staff/team/members/{agent.pk}/", {"action": "role", "role": "finance"}, follow=True)
    assert f"{tenant.agent.email} is now Finance." in response.content.decode()
    response = client.post(f"/staff/team/members/{agent.pk}/", {"action": "deactivate"}, follow=True)
    html = response.content.decode()
    assert f"{tenant.agent.email} can no longer sign in." in html
    assert "Deactivated" in html
    assert 'value="reactivate"' in html

    invitation = _invite(tenant)
    response = client.post(f"/staff/team/invitations/{invitation.pk}/", {"action": "revoke"}, follow=True)
    assert "its link no longer works" in response.content.decode()
    assert invitation.email not in response.content.decode().split('id="invitations"')[1]


def test_the_page_shows_a_refusal_and_changes_nothing(tenant: Tenant, client_for) -> None:
    response = client_for(tenant.admin).post(
        f"/staff/team/members/{_membership(tenant.agent).pk}/",
        {"action": "role", "role": "customer_admin"},
        follow=True,
    )
    assert "Choose one of the roles this member can have." in response.content.decode()
    assert _membership(tenant.agent).role == Role.SUPPORT_AGENT


@pytest.mark.parametrize("role", ["finance", "agent"])
def test_only_partner_admins_manage_the_team(tenant: Tenant, client_for, role: str) -> None:
    client = client_for(getattr(tenant, role))
    target = _membership(tenant.agent if role == "finance" else tenant.finance)
    assert client.post(f"/staff/team/members/{target.pk}/", {"action": "deactivate"}).status_code == 403
    invitation = _invite(tenant)
    assert client.post(f"/staff/team/invitations/{invitation.pk}/", {"action": "revoke"}).status_code == 403
    target.user.refresh_from_db()
    invitation.refresh_from_db()
    assert (target.user.is_active, invitation.revoked_at) == (True, None)
    assert 'value="deactivate"' not in client.get(TEAM).content.decode()


def test_another_partners_members_and_invitations_are_not_found(
    tenant: Tenant, other_tenant: Tenant, client_for
) -> None:
    client = client_for(tenant.admin)
    stranger = _membership(other_tenant.agent)
    assert client.post(f"/staff/team/members/{stranger.pk}/", {"action": "deactivate"}).status_code == 404
    invitation = _invite(other_tenant)
    assert client.post(f"/staff/team/invitations/{invitation.pk}/", {"action": "revoke"}).status_code == 404
    # A customer's user is not a team member: managed from the customer's page, not here.
    customer_user = _membership(tenant.customer_member)
    assert client.post(f"/staff/team/members/{customer_user.pk}/", {"action": "deactivate"}).status_code == 404
    stranger.user.refresh_from_db()
    invitation.refresh_from_db()
    customer_user.user.refresh_from_db()
    assert (stranger.user.is_active, invitation.revoked_at, customer_user.user.is_active) == (True, None, True)
