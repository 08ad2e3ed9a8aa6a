"""A customer asks for support and reads, on its ticket's page, when to expect an answer; the agent
replies, and the customer sees the agent's name with the "Support team" badge, never an email, and
when the team aims to solve it."""

from __future__ import annotations

import pytest
from django.utils import formats, timezone
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _local(moment, time_zone: str) -> str:
    with timezone.override(time_zone):
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def test_the_customer_sees_the_agents_name_and_when_to_expect_an_answer(
    page: Page, browser: Browser, live_server
) -> None:
    tenant = make_tenant("Alpha")
    tenant.agent.full_name = "Anna Petrova"
    tenant.agent.save(update_fields=["full_name"])
    zone = tenant.partner.time_zone

    sign_in(page, tenant.customer_admin.email)
    page.goto("/my/support/")
    page.get_by_role("link", name="Ask for support").first.click()
    page.fill("input[name=subject]", "Outlook keeps asking for the password")
    page.fill("textarea[name=description]", "Three users since Monday.")
    page.select_option("select[name=severity]", "B")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("T-000001")
    ticket = Ticket.objects.get()
    assert ticket.first_response_due is not None
    facts = page.locator("section[aria-labelledby=facts-title]")
    expect(facts).to_contain_text("We will answer by")
    expect(facts).to_contain_text(_local(ticket.first_response_due, zone))

    agent = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(agent, tenant.agent.email)
    agent.goto(f"/staff/tickets/{ticket.pk}/")
    agent.fill("textarea[name=body]", "Please update Outlook to the latest version.")
    agent.locator("form[action$='/reply/'] button[type=submit]").click()
    expect(agent.locator(".ticket-message", has_text="Please update Outlook")).to_have_count(1)
    agent.context.close()

    page.reload()
    conversation = page.locator("section[aria-labelledby=conversation-title]")
    reply = conversation.locator(".ticket-message", has_text="Please update Outlook")
    expect(reply).to_contain_text("Anna Petrova")
    expect(reply).to_contain_text("Support team")
    expect(page.locator("main")).not_to_contain_text(tenant.agent.email)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.resolution_due is not None
    expect(facts).not_to_contain_text("We will answer by")
    expect(facts).to_contain_text("We aim to solve it by")
    expect(facts).to_contain_text(_local(ticket.resolution_due, zone))
