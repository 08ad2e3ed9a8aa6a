"""A customer asks for support with a screenshot, the agent adds an internal note and replies, the
customer sees the reply (never the note) and closes the resolved ticket."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.tickets import PNG
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_ticket_agent_reply_and_close(page: Page, browser: Browser, live_server, tmp_path) -> None:
    tenant = make_tenant("Alpha")
    screenshot = tmp_path / "error.png"
    screenshot.write_bytes(PNG)

    # The customer opens a ticket with a screenshot from the support page.
    sign_in(page, tenant.customer_admin.email)
    page.goto("/my/support/")
    page.get_by_role("link", name="Ask for support").first.click()
    page.fill("input[name=subject]", "Outlook keeps asking for the password")
    page.fill("textarea[name=description]", "Three users since Monday.")
    page.select_option("select[name=severity]", "B")
    page.set_input_files("input[name=attachments]", str(screenshot))
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("T-000001")
    ticket = Ticket.objects.get()
    assert ticket.attachments.get().original_name == "error.png"

    # The agent finds it unassigned in the queue, notes internally and replies.
    agent = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(agent, tenant.agent.email)
    agent.goto("/staff/tickets/?view=unassigned")
    agent.get_by_role("link", name="T-000001 Outlook keeps asking for the password").click()
    agent.fill("textarea[name=body]", "Conditional access policy blocks legacy auth.")
    agent.check("input[name=internal]")
    agent.locator("form[action$='/reply/'] button[type=submit]").click()
    expect(agent.locator(".ticket-message--internal")).to_contain_text("Conditional access policy")
    agent.fill("textarea[name=body]", "Please update Outlook to the latest version.")
    agent.locator("form[action$='/reply/'] button[type=submit]").click()
    agent.select_option("select[name=status]", "resolved")
    agent.locator("form[action$='/status/'] button[type=submit]").click()
    expect(agent.locator("h1")).to_contain_text("Resolved")

    # The customer sees the reply, not the note, and closes the ticket.
    page.reload()
    main = page.locator("main")
    expect(main).to_contain_text("Please update Outlook to the latest version.")
    expect(main).not_to_contain_text("Conditional access policy")
    page.get_by_role("button", name="Solved: close the request").click()
    expect(page.locator("h1")).to_contain_text("Closed")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
