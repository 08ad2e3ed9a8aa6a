"""An agent picks a canned reply on a customer's ticket, sees it filled in with the customer's name and
the ticket's number in the reply box, sends it, and the customer reads it on their ticket."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.tickets import ticket
from tickets.canned.models import CannedReply
from tickets.models import TicketMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_inserts_a_canned_reply_and_the_customer_reads_it(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, subject="Cannot assign a licence")

    # The agent writes the canned reply on its page.
    sign_in(page, tenant.agent.email)
    page.goto("/staff/tickets/")
    page.get_by_role("link", name="Canned replies").first.click()
    page.get_by_role("link", name="New canned reply").first.click()
    page.fill("input[name=title]", "Licence assigned")
    page.fill("textarea[name=body_en]", "Hello {customer}, we assigned the licence ({ticket_number}).")
    page.fill("textarea[name=body_ru]", "Здравствуйте, {customer}! Лицензия назначена ({ticket_number}).")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Canned reply Licence assigned saved.")

    # On the ticket, the picker puts the English text, filled in, into the reply box.
    page.goto(f"/staff/tickets/{t.pk}/")
    page.select_option("#canned-reply-choice", label="Licence assigned")
    page.get_by_role("button", name="Insert").click()
    box = page.locator("textarea[name=body]")
    expect(box).to_have_value("Hello Alpha Customer One, we assigned the licence (T-000001).")
    expect(page.locator("[data-canned-status]")).to_contain_text("Licence assigned")
    assert page.url.endswith(f"/staff/tickets/{t.pk}/")  # the script inserted it; the page did not reload
    used = page.locator("#id_canned_reply")
    expect(used).to_have_value(str(CannedReply.objects.get().pk))
    box.fill("")  # emptied: what is sent no longer starts from the canned reply
    expect(used).to_have_value("")
    page.select_option("#canned-reply-choice", label="Licence assigned")
    page.get_by_role("button", name="Insert").click()
    expect(box).to_have_value("Hello Alpha Customer One, we assigned the licence (T-000001).")
    expect(used).to_have_value(str(CannedReply.objects.get().pk))
    box.press("End")
    box.type(" Sign out and in again.")
    page.locator("form[action$='/reply/'] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Reply sent to the customer.")
    assert CannedReply.objects.get().use_count == 1
    assert TicketMessage.objects.get(ticket=t).body == (
        "Hello Alpha Customer One, we assigned the licence (T-000001). Sign out and in again."
    )

    # The customer reads it on their ticket.
    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(customer, tenant.customer_admin.email)
    customer.goto(f"/my/tickets/{t.pk}/")
    expect(customer.locator("main")).to_contain_text(
        "Hello Alpha Customer One, we assigned the licence (T-000001). Sign out and in again."
    )
    expect(customer.locator("main")).not_to_contain_text("Canned reply")
