"""A customer rates a resolved ticket 5 with a comment and sees the rating; the agent sees it on the
satisfaction report."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.tickets import ticket
from tickets.models import Ticket, TicketRating
from tickets.services import ticket_status_change

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_rates_and_staff_see_the_report(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, subject="Teams calls drop", assignee=tenant.agent)
    ticket_status_change(ticket=t, status=Ticket.Status.RESOLVED, actor=tenant.agent)

    # The customer picks 5 in the radio group, writes a comment and sends it.
    sign_in(page, tenant.customer_admin.email)
    page.goto(f"/my/tickets/{t.pk}/")
    group = page.get_by_role("radiogroup", name="How did we do?")
    expect(group).to_be_visible()
    group.get_by_label("5 · Excellent").check()
    page.get_by_label("Comment").fill("Solved on the first call, thank you.")
    page.get_by_role("button", name="Send rating").click()
    main = page.locator("main")
    expect(main).to_contain_text("Thank you for your rating.")
    expect(main).to_contain_text("You rated this request 5 of 5.")
    expect(main).to_contain_text("Solved on the first call, thank you.")
    expect(page.get_by_role("radiogroup", name="How did we do?")).to_have_count(0)
    assert TicketRating.objects.get(ticket=t).score == 5

    # The agent opens the report from the ticket list and finds the rating under their name.
    agent = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(agent, tenant.agent.email)
    agent.goto("/staff/tickets/")
    agent.get_by_role("link", name="Satisfaction").click()
    expect(agent.locator("h1")).to_have_text("Satisfaction")
    expect(agent.locator("[data-count]")).to_have_text("1")
    expect(agent.locator("[data-average]")).to_have_text("5.00")
    expect(agent.locator("[data-response-rate]")).to_contain_text("100 %")
    agents = agent.locator("[data-table=agents]")
    expect(agents).to_contain_text(tenant.agent.full_name or tenant.agent.email)
    expect(agents).to_contain_text("5.00")
    expect(agent.locator("[data-table=families]")).to_contain_text("Microsoft 365")


def test_rating_pages_pass_the_page_checks(page: Page, browser: Browser, live_server) -> None:
    """The rating form, the signed link's page (with a rating and without) and the report with rows:
    accessibility, unique ids, no sideways scrolling, nothing blocked by the policy."""
    from axe_playwright_python.sync_playwright import Axe

    from tests.browser.test_page_quality import _csp_watch, _problems
    from tickets.services import rating_link_token, ticket_rate

    tenant = make_tenant("Alpha")
    waiting = ticket(tenant.customer, opened_by=tenant.customer_admin, subject="Licence missing " * 10)
    ticket_status_change(ticket=waiting, status=Ticket.Status.RESOLVED, actor=tenant.agent)
    done = ticket(tenant.customer, opened_by=tenant.customer_admin, assignee=tenant.agent, product_family="azure")
    ticket_status_change(ticket=done, status=Ticket.Status.RESOLVED, actor=tenant.agent)
    ticket_rate(ticket=done, score=4, comment="Good " * 60, actor=tenant.customer_admin)
    axe = Axe()

    blocked = _csp_watch(page)
    sign_in(page, tenant.admin.email)
    problems = _problems(page, axe, "/staff/support/satisfaction/")
    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    blocked += _csp_watch(customer)
    sign_in(customer, tenant.customer_admin.email)
    for t in (waiting, done):
        problems += _problems(customer, axe, f"/my/tickets/{t.pk}/")
    customer.context.close()
    anonymous = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    blocked += _csp_watch(anonymous)
    for t in (waiting, done):
        problems += _problems(anonymous, axe, f"/rate/{rating_link_token(t)}/?score=3")
    assert problems == [], "\n".join(problems)
    assert blocked == []
