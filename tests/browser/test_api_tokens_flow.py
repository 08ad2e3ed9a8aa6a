"""A user revokes one of their API tokens on their two-factor page; a partner admin revokes a customer
user's token on the team page. Each confirmation is accepted and the token stops working."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from partner_portal.models import ApiToken
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories import api_token

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_and_partner_admin_revoke_tokens(page: Page, live_server) -> None:
    tenant = make_tenant("Alpha")
    api_token(tenant.admin, "Nightly export")
    api_token(tenant.admin, "Reports")
    api_token(tenant.customer_admin, "Customer ERP")
    page.on("dialog", lambda dialog: dialog.accept())  # the "Revoke the token …?" confirmations
    sign_in(page, tenant.admin.email)

    page.goto("/accounts/2fa/")
    section = page.locator("#api-tokens")
    expect(section).to_contain_text("Nightly export")
    section.locator("tr", has_text="Nightly export").get_by_role("button", name="Revoke").click()
    expect(page.locator(".alert")).to_contain_text("Token Nightly export revoked.")
    expect(page.locator("#api-tokens")).not_to_contain_text("Nightly export")
    expect(page.locator("#api-tokens")).to_contain_text("Reports")

    page.goto("/staff/team/")
    row = page.locator("#api-tokens tr", has_text="Customer ERP")
    expect(row).to_contain_text(tenant.customer_admin.email)
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".alert")).to_contain_text(f"Token Customer ERP of {tenant.customer_admin.email} revoked.")
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["Reports"]
