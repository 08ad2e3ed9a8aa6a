"""People clicking through: staff and customer sign-in, navigation by role, the language switch."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from partner_portal.models import Membership
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_sign_in_find_a_customer_and_open_it(page: Page) -> None:
    tenant = make_tenant("Alpha")
    sign_in(page, tenant.agent.email)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text("Customers")

    page.get_by_role("link", name="Customers").first.click()
    expect(page).to_have_url(re.compile(r"/staff/customers/$"))
    page.fill("input[name=q]", "Two")
    page.keyboard.press("Enter")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="Alpha Customer Two").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Customer Two")
    expect(page.locator("main")).to_contain_text(str(tenant.other_customer.tenant_id))


def test_customer_sign_in_sees_only_its_self_service_page(page: Page) -> None:
    tenant = make_tenant("Alpha")
    sign_in(page, tenant.customer_admin.email)
    expect(page).to_have_url(re.compile(r"/my/$"))
    expect(page.locator("main")).to_contain_text("Alpha Customer One")
    expect(page.locator("main")).to_contain_text(tenant.partner.support_email)
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav).not_to_contain_text("Customers")
    expect(nav).not_to_contain_text("Team")
    # A staff page by URL is refused.
    response = page.goto("/staff/customers/")
    assert response is not None
    assert response.status == 403


def test_language_switch_to_russian_and_back(page: Page) -> None:
    tenant = make_tenant("Alpha")
    sign_in(page, tenant.customer_member.email)
    page.click("button[name=language][value=ru]")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("navigation", name="Основная навигация")).to_contain_text("Мой кабинет")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.click("button[name=language][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text("My account")


def test_admin_invites_a_colleague_who_signs_up_from_the_email(page: Page, browser) -> None:
    tenant = make_tenant("Alpha")
    sign_in(page, tenant.admin.email)
    page.get_by_role("link", name="Team").first.click()
    page.fill("input[name=email]", "new.finance@alpha.example")
    page.get_by_label("Role", exact=True).select_option("finance")  # the invitation form, not a member's row
    page.get_by_role("button", name=re.compile("invit", re.I)).click()
    expect(page.locator("main")).to_contain_text("Invitation sent to new.finance@alpha.example")

    link = re.search(r"https?://[^/\s]+(/invitations/[\w-]+/)", mail.outbox[-1].body).group(1)
    newcomer = browser.new_context(base_url=page.context.pages[0].url.split("/staff")[0]).new_page()
    newcomer.goto(link)
    newcomer.fill("input[name=full_name]", "Nina Finance")
    newcomer.fill("input[name=password1]", "a-long-password-42")
    newcomer.fill("input[name=password2]", "a-long-password-42")
    newcomer.locator("main form button[type=submit]").click()
    expect(newcomer).to_have_url(re.compile(r"/staff/$"))
    assert Membership.objects.get(user__email="new.finance@alpha.example").role == "finance"
    newcomer.context.close()
