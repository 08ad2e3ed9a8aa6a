"""A customer finds an article while opening a ticket: an agent writes an article in English and Russian,
previews and publishes it; the customer types a new ticket's subject, the article is suggested, opened
from the keyboard in a new tab, and the question is answered (no ticket sent); a second time the
customer sends the ticket anyway. The agent sees the views, the opens and the one without a ticket."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tickets.knowledge.models import Article, ArticleSuggestion
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_finds_an_article_while_opening_a_ticket(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    problems: list[str] = []

    # The agent writes the article, previews both languages, saves and publishes it.
    sign_in(page, tenant.agent.email)
    page.goto("/staff/tickets/")
    page.get_by_role("link", name="Knowledge base").first.click()
    page.get_by_role("link", name="New article").first.click()
    page.fill("input[name=title_en]", "How do I pay an invoice?")
    page.fill("textarea[name=body_en]", "Pay by **bank transfer** with the invoice number as the reference.")
    page.fill("input[name=title_ru]", "Как оплатить счёт?")
    page.fill("textarea[name=body_ru]", "Оплатите **банковским переводом**, указав номер счёта.")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#article-preview")
    expect(preview.locator("strong").first).to_have_text("bank transfer")
    expect(preview.locator("strong").last).to_have_text("банковским переводом")
    page.get_by_role("button", name="Save article").click()
    expect(page.locator("main")).to_contain_text("Article How do I pay an invoice? saved.")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("main")).to_contain_text("your customers can read it")
    article = Article.objects.get()

    # The customer starts a ticket; typing the subject brings the article up under it.
    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    customer.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    sign_in(customer, tenant.customer_admin.email)
    customer.goto("/my/support/")
    customer.get_by_role("link", name="Ask for support").first.click()
    suggestions = customer.locator("#kb-suggestions")
    expect(suggestions).to_be_hidden()  # nothing typed, nothing shown
    subject = customer.locator("#id_subject")
    subject.press_sequentially("paying my invoices", delay=30)
    expect(suggestions).to_be_visible()
    link = suggestions.get_by_role("link", name="How do I pay an invoice?")
    expect(link).to_be_visible()
    expect(customer.locator("[data-kb-status]")).to_have_text("Suggested articles: 1")
    # From the keyboard: Down from the subject reaches the link, Escape goes back.
    subject.press("ArrowDown")
    expect(link).to_be_focused()
    link.press("Escape")
    expect(subject).to_be_focused()
    subject.press("ArrowDown")
    with customer.context.expect_page() as opened:
        customer.keyboard.press("Enter")
    article_page = opened.value
    article_page.wait_for_load_state()
    expect(article_page.locator("h1")).to_have_text("How do I pay an invoice?")
    expect(article_page.locator(".kb-article strong")).to_have_text("bank transfer")
    article_page.close()  # answered: the ticket is not sent
    assert customer.locator("#id_subject").input_value() == "paying my invoices"  # what was typed stays
    suggestion = ArticleSuggestion.objects.get()
    assert (suggestion.article, suggestion.user, suggestion.ticket) == (article, tenant.customer_admin, None)

    # Another day: the article does not answer it, and the ticket is sent after all.
    customer.goto("/my/tickets/new/")
    customer.locator("#id_subject").press_sequentially("Invoice payment bounced", delay=30)
    with customer.context.expect_page() as opened:
        customer.locator("#kb-suggestions").get_by_role("link", name="How do I pay an invoice?").click()
    opened.value.close()
    customer.fill("textarea[name=description]", "The bank returned our transfer.")
    customer.get_by_role("button", name="Open ticket").click()
    expect(customer.locator("main")).to_contain_text("was sent")
    sent = Ticket.objects.get()
    assert sorted(ArticleSuggestion.objects.values_list("ticket", flat=True), key=str) == sorted(
        [None, sent.pk], key=str
    )

    # The agent sees what it did.
    page.goto("/staff/support/knowledge/")
    row = page.locator("tbody tr").first
    expect(row.locator("td").nth(3)).to_have_text("2")  # views
    expect(row.locator("td").nth(4)).to_have_text("2")  # opened from a suggestion
    expect(row.locator("td").nth(5)).to_have_text("1")  # opened, no ticket sent
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
