"""A customer opens a technical ticket; an agent replies, adds an internal note and escalates it to
Microsoft; the escalation shows the tier the partner's entitlement opens; the customer sees the status
"Escalated" but neither the internal note nor the case."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, Page, expect

from escalation.models import Escalation
from partner_portal import clock
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.escalation import entitlement, tier_catalogue
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

INTERNAL_NOTE = "Autodiscover still points at the old on-premises server."


def test_customer_ticket_agent_escalates_customer_sees_escalated(page: Page, browser: Browser, live_server) -> None:
    tier_catalogue()  # migration data: an earlier transactional test's flush may have removed it
    tenant = make_tenant("Alpha")
    today = clock.today(tenant.partner.time_zone)
    entitlement(tenant.partner, "premier", (today - dt.timedelta(days=30), None), reference="PSfP-2026-1")
    entitlement(tenant.partner, "advanced", (today - dt.timedelta(days=30), None))

    # The customer opens a technical ticket.
    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(customer, tenant.customer_admin.email)
    customer.goto("/my/tickets/new/")
    customer.fill("input[name=subject]", "Outlook cannot connect to Exchange Online")
    customer.fill("textarea[name=description]", "Every user gets error 0x800CCC0E since this morning.")
    customer.select_option("select[name=category]", "technical")
    customer.select_option("select[name=severity]", "A")
    customer.locator("main form button[type=submit]").first.click()
    expect(customer.locator("main")).to_contain_text("Outlook cannot connect to Exchange Online")
    ticket = Ticket.objects.get(customer=tenant.customer)
    assert (ticket.category, ticket.status) == ("technical", "new")

    # The agent replies in public, then adds an internal note.
    sign_in(page, tenant.agent.email)
    page.goto(f"/staff/tickets/{ticket.pk}/")
    page.fill("textarea[name=body]", "We are looking into it; please keep Outlook closed meanwhile.")
    page.locator(f"form[action='/staff/tickets/{ticket.pk}/reply/'] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("please keep Outlook closed meanwhile")
    page.fill("textarea[name=body]", INTERNAL_NOTE)
    page.check("input[name=internal]")
    page.locator(f"form[action='/staff/tickets/{ticket.pk}/reply/'] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text(INTERNAL_NOTE)

    # The agent escalates it from the ticket's escalation panel, with a reason.
    panel = page.get_by_test_id("escalation-panel")
    expect(panel).to_contain_text("Not escalated to Microsoft.")
    panel.get_by_role("link", name="Escalate to Microsoft").click()
    expect(page.get_by_test_id("escalation-route")).to_contain_text("Premier Support for Partners")
    page.fill("textarea[name=reason]", "Mail flow is down for every user; our checks found nothing on our side.")
    page.locator("main form button[type=submit]").click()

    # The escalation shows the tier, and its summary has the internal note for Microsoft.
    expect(page.get_by_test_id("escalation-tier")).to_have_text("Premier Support for Partners")
    expect(page.locator("#escalation-summary")).to_contain_text(INTERNAL_NOTE)
    expect(page.locator("#escalation-summary")).to_contain_text(str(tenant.customer.tenant_id))
    escalation = Escalation.objects.get(ticket=ticket)
    assert (escalation.tier.code, escalation.status, escalation.created_by) == ("premier", "to_file", tenant.agent)

    # The agent records the Microsoft case number; the ticket page's panel shows it.
    page.fill("input[name=microsoft_case_number]", "2612010010000042")
    page.locator("aside form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Filed with Microsoft")
    page.goto(f"/staff/tickets/{ticket.pk}/")
    expect(page.get_by_test_id("escalation-panel")).to_contain_text("Microsoft case 2612010010000042")

    # The customer reloads: "Escalated", and no internal note, tier or case number.
    customer.reload()
    main = customer.locator("main")
    expect(main).to_contain_text("Escalated")
    expect(main).to_contain_text("please keep Outlook closed meanwhile")
    expect(main).not_to_contain_text(INTERNAL_NOTE)
    expect(main).not_to_contain_text("Premier")
    expect(main).not_to_contain_text("2612010010000042")
    customer.context.close()
