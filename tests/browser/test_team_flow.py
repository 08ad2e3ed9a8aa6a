"""A partner admin changes a colleague's role, deactivates them (after confirming), and revokes an
invitation; the deactivated colleague can no longer sign in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from partner_portal.models import Invitation, Role
from partner_portal.services import InvitationRequest, invitation_create
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_role_change_deactivation_and_revocation(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    invitation = invitation_create(
        partner=tenant.partner,
        actor=tenant.admin,
        request=InvitationRequest(email="late.joiner@example.com", role=Role.FINANCE),
        base_url=live_server.url,
    )
    page.on("dialog", lambda dialog: dialog.accept())  # the "Deactivate …?" and "Revoke …?" confirmations
    sign_in(page, tenant.admin.email)
    page.goto("/staff/team/")

    row = page.locator("tr", has_text=tenant.agent.email)
    row.get_by_label(f"Role of {tenant.agent.email}").select_option("finance")
    row.get_by_role("button", name="Change role").click()
    expect(page.locator(".alert")).to_contain_text(f"{tenant.agent.email} is now Finance.")

    page.locator("tr", has_text=tenant.agent.email).get_by_role("button", name="Deactivate").click()
    row = page.locator("tr", has_text=tenant.agent.email)
    expect(row).to_contain_text("Deactivated")
    expect(row.get_by_role("button", name="Reactivate")).to_be_visible()

    page.locator("tr", has_text="late.joiner@example.com").get_by_role("button", name="Revoke").click()
    expect(page.locator(".alert")).to_contain_text("its link no longer works")
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert not Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).exists()

    colleague = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(colleague, tenant.agent.email)
    expect(colleague).to_have_url(f"{live_server.url}/accounts/inactive/")
    colleague.context.close()
