"""The knowledge base's rules: saving and publishing (checked, audited), the Markdown rendered safe, the
search in English and Russian (stemmed on PostgreSQL, word by word on SQLite), what a customer may read,
and the suggestions opened with and without a ticket following."""

from __future__ import annotations

import pytest
from django.db import connection

from partner_portal.models import AuditEvent
from partner_portal.tenancy import Scope
from tests.conftest import require
from tests.factories.tickets import ticket
from tickets.errors import ArticleInvalid
from tickets.knowledge import search, selectors, services
from tickets.knowledge.models import Article, ArticleSuggestion
from tickets.knowledge.rendering import plain_text, render_markdown
from tickets.knowledge.services import ArticleInput

pytestmark = pytest.mark.django_db


def scope(user) -> Scope:
    return Scope(membership=user.membership)


def article(tenant, *, publish: bool = True, **texts: str) -> Article:
    saved = services.article_save(partner=tenant.partner, actor=tenant.agent, data=ArticleInput(**texts))
    if publish:
        saved = services.article_publish(partner=tenant.partner, actor=tenant.agent, article=saved, publish=True)
    return saved


def found(user, text: str) -> list[str]:
    rows = selectors.customer_article_list(scope=scope(user), filters=selectors.ArticleFilters(search=text))
    return sorted(str(a) for a in rows)


def test_saving_checks_each_language_is_written_in_full_and_audits(tenant) -> None:
    with pytest.raises(ArticleInvalid) as refused:
        services.article_save(partner=tenant.partner, actor=tenant.agent, data=ArticleInput())
    assert "title_en" in refused.value.fields
    with pytest.raises(ArticleInvalid) as refused:
        services.article_save(
            partner=tenant.partner,
            actor=tenant.agent,
            data=ArticleInput(title_en="Pay", title_ru="Оплата", body_ru="Т"),
        )
    assert refused.value.fields == {"body_en": ["Write the text for this title."]}
    saved = article(tenant, publish=False, title_ru="Оплата счёта", body_ru="Оплатите по реквизитам.")
    assert (saved.status, str(saved), saved.created_by) == ("draft", "Оплата счёта", tenant.agent)
    services.article_publish(partner=tenant.partner, actor=tenant.admin, article=saved, publish=True)
    services.article_publish(partner=tenant.partner, actor=tenant.admin, article=saved, publish=False)
    services.article_delete(partner=tenant.partner, actor=tenant.admin, article=saved)
    assert list(AuditEvent.objects.filter(action__startswith="knowledge_article.").order_by("pk").values_list(
        "action", flat=True)) == ["knowledge_article.created", "knowledge_article.published",
                                  "knowledge_article.unpublished", "knowledge_article.deleted"]  # fmt: skip


def test_markdown_is_rendered_and_sanitised() -> None:
    html = render_markdown(
        "## Paying\n\n**Bank transfer** to [our bank](https://bank.example/pay).\n\n"
        "<script>alert(1)</script>\n\n[click](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n"
        '<a href="javascript:alert(2)">raw</a>'
    )
    assert "<h2>Paying</h2>" in html
    assert "<strong>Bank transfer</strong>" in html
    assert '<a href="https://bank.example/pay" rel="noopener noreferrer nofollow">our bank</a>' in html
    assert "<script" not in html
    assert "<img" not in html
    assert '<a href="javascript' not in html  # written as HTML: shown as text, never a link
    assert "&lt;a href=" in html
    assert plain_text("# Title\n\nSome **bold** text") == "Title Some bold text"


def test_a_customer_reads_only_its_partners_published_articles(tenant, other_tenant) -> None:
    article(tenant, title_en="How do I pay an invoice?", body_en="By bank transfer or card.")
    article(tenant, publish=False, title_en="Draft about invoices", body_en="Not yet.")
    article(other_tenant, title_en="Their invoice article", body_en="Invoices of the other partner.")
    assert found(tenant.customer_admin, "invoice") == ["How do I pay an invoice?"]
    assert found(tenant.other_customer_admin, "invoice") == ["How do I pay an invoice?"]  # a sibling customer too
    assert found(other_tenant.customer_admin, "invoice") == ["Their invoice article"]
    staff = selectors.article_list(scope=scope(tenant.agent), filters=selectors.ArticleFilters(search="invoice"))
    assert sorted(str(a) for a in staff) == ["Draft about invoices", "How do I pay an invoice?"]
    assert selectors.article_suggest(scope=scope(tenant.customer_admin), text="invoice", language="en")[0]["title"] == (
        "How do I pay an invoice?"
    )
    assert (
        selectors.article_suggest(scope=scope(other_tenant.customer_admin), text="invoice", language="en")[0]["title"]
        == "Their invoice article"
    )


def test_postgresql_search_stems_english_and_russian_and_ranks_titles_first(tenant) -> None:
    require(connection.vendor == "postgresql", "full-text search is PostgreSQL's")
    article(tenant, title_en="When is my invoice issued?", body_en="On the first day of the month.",
            title_ru="Когда выставляется счёт?", body_ru="В первый день месяца.")  # fmt: skip
    article(tenant, title_en="Why was my subscription suspended?",
            body_en="An overdue invoice suspends the subscription after the grace period.",
            title_ru="Почему приостановлена подписка?", body_ru="Неоплаченный счет приостанавливает подписку.")  # fmt: skip
    article(tenant, title_en="Changing licences", body_en="Add or remove seats.")
    user = tenant.customer_admin
    assert found(user, "invoices") == ["When is my invoice issued?", "Why was my subscription suspended?"]
    assert found(user, "suspending") == ["Why was my subscription suspended?"]  # stemmed: suspend
    assert found(user, "счета") == sorted(["When is my invoice issued?", "Why was my subscription suspended?"])
    assert found(user, "подписки") == ["Why was my subscription suspended?"]
    assert found(user, "счёт") == found(user, "счет")
    assert found(user, "licence -seats") == []  # web search syntax: a word excluded
    # Ranked: the article whose title says "invoice" before the one whose text does.
    titles = [s["title"] for s in selectors.article_suggest(scope=scope(user), text="invoice", language="en")]
    assert titles == ["When is my invoice issued?", "Why was my subscription suspended?"]
    # In Russian the Russian title is shown; an article written in English only falls back to it.
    ru = selectors.article_suggest(scope=scope(user), text="счета", language="ru")
    assert [(s["title"], s["language"]) for s in ru] == [("Когда выставляется счёт?", "ru"),
                                                         ("Почему приостановлена подписка?", "ru")]  # fmt: skip
    assert selectors.article_suggest(scope=scope(user), text="seats", language="ru")[0]["language"] == "en"


def test_postgresql_search_uses_the_gin_index(tenant) -> None:
    require(connection.vendor == "postgresql", "full-text search is PostgreSQL's")
    article(tenant, title_ru="Счёт", body_ru="Текст")
    qs = search.search(Article.objects.all(), "счета")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "article_search_ru_idx" in plan
    assert "article_search_en_idx" in plan


def test_the_sqlite_search_matches_every_word_and_puts_titles_first(tenant) -> None:
    article(tenant, title_en="Pay an invoice", body_en="By card.")
    article(tenant, title_en="Card payments", body_en="How to pay an invoice by card.")
    article(tenant, title_ru="Оплата счёта", body_ru="Картой или переводом.")
    qs = search.search(Article.objects.filter(partner=tenant.partner), "invoice pay", vendor="sqlite")
    assert [str(a) for a in qs.order_by("-rank", "sort_title")] == ["Pay an invoice", "Card payments"]
    assert [str(a) for a in search.search(Article.objects.all(), "Картой", vendor="sqlite")] == ["Оплата счёта"]
    # Suggestions take any word of four letters or more: a subject is a sentence.
    subject = search.search(Article.objects.all(), "how do I pay by card", any_word=True, vendor="sqlite")
    assert [str(a) for a in subject.order_by("-rank", "sort_title")] == ["Card payments", "Pay an invoice"]
    assert not search.search(Article.objects.all(), "a an of", any_word=True, vendor="sqlite").exists()
    assert [str(a) for a in search.search(Article.objects.all(), "invoices", vendor="sqlite")] == [
        "Card payments", "Pay an invoice",
    ]  # fmt: skip


def test_suggestions_opened_count_once_and_a_ticket_sent_settles_them(tenant) -> None:
    answer = article(tenant, title_en="How do I pay an invoice?", body_en="By bank transfer.")
    other = article(tenant, title_en="When is my invoice issued?", body_en="Monthly.")
    flow, later = services.new_flow(), services.new_flow()
    user, customer = tenant.customer_admin, tenant.customer
    for _ in range(2):  # opened twice from the same form: once
        services.article_suggestion_opened(customer=customer, user=user, article=answer, flow=flow)
    services.article_suggestion_opened(customer=customer, user=user, article=other, flow=flow)
    services.article_suggestion_opened(customer=customer, user=user, article=answer, flow=later)
    services.article_suggestion_opened(customer=customer, user=user, article=answer, flow="not-a-flow")
    assert ArticleSuggestion.objects.count() == 3
    sent = ticket(customer, opened_by=user)
    # Another user's form key settles nothing of this user's.
    assert services.article_suggestions_ticket_sent(user=tenant.customer_member, flow=flow, ticket=sent) == 0
    assert services.article_suggestions_ticket_sent(user=user, flow=flow, ticket=sent) == 2
    stats = selectors.article_stats(scope=scope(tenant.agent), article=answer)
    assert stats == {"views": 0, "opened_from_suggestion": 2, "opened_no_ticket": 1}
    listed = {a.pk: a for a in selectors.article_list(scope=scope(tenant.agent))}
    assert (listed[answer.pk].opened_from_suggestion, listed[answer.pk].opened_no_ticket) == (2, 1)
    assert (listed[other.pk].opened_from_suggestion, listed[other.pk].opened_no_ticket) == (1, 0)


def test_another_partners_article_is_refused(tenant, other_tenant) -> None:
    theirs = article(other_tenant, title_en="Theirs", body_en="x")
    with pytest.raises(ArticleInvalid):
        services.article_save(partner=tenant.partner, actor=tenant.agent, data=ArticleInput(title_en="Mine",
                              body_en="y"), article=theirs)  # fmt: skip
    with pytest.raises(ArticleInvalid):
        services.article_suggestion_opened(
            customer=tenant.customer, user=tenant.customer_admin, article=theirs, flow=services.new_flow()
        )
    theirs.refresh_from_db()
    assert str(theirs) == "Theirs"
