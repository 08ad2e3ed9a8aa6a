"""The knowledge base pages: the support desk writes, previews, publishes and deletes articles; customers
search the published ones of their partner and read one in their language; the suggestions' JSON; the
article opened from a suggestion and the ticket sent after it; who may do what; another partner's and
a draft are 404; the lists' queries."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from partner_portal.models import AuditEvent
from tickets.knowledge.models import Article, ArticleSuggestion
from tickets.knowledge.services import ArticleInput, article_publish, article_save
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _article(tenant, publish=True, **texts) -> Article:
    texts = texts or {"title_en": "How do I pay an invoice?", "body_en": "By **bank transfer**."}
    saved = article_save(partner=tenant.partner, actor=tenant.agent, data=ArticleInput(**texts))
    return (
        article_publish(partner=tenant.partner, actor=tenant.agent, article=saved, publish=True) if publish else saved
    )


def test_an_agent_writes_previews_publishes_and_deletes_an_article(tenant, client_for) -> None:
    agent = client_for(tenant.agent)
    data = {"title_en": "How do I pay an invoice?", "body_en": "Pay by **bank transfer**.<script>x()</script>",
            "title_ru": "Как оплатить счёт?", "body_ru": "Оплатите *переводом*.", "category": "billing"}  # fmt: skip
    preview = agent.post(reverse("knowledge_article_create"), {**data, "preview": "1"})
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "<strong>bank transfer</strong>" in page
    assert "<em>переводом</em>" in page
    assert "<script>x()" not in page
    assert not Article.objects.exists()  # a preview saves nothing
    created = agent.post(reverse("knowledge_article_create"), data)
    article = Article.objects.get()
    assert created.status_code == 302
    assert (article.partner, article.status, article.created_by) == (tenant.partner, "draft", tenant.agent)
    # A draft: the customer does not find it.
    customer = client_for(tenant.customer_admin)
    assert customer.get(reverse("customer_knowledge_article", args=[article.pk])).status_code == 404
    assert "How do I pay" not in customer.get(reverse("customer_knowledge_list")).content.decode()
    assert agent.post(reverse("knowledge_article_publish", args=[article.pk]), {"publish": "1"}).status_code == 302
    article.refresh_from_db()
    assert article.status == "published"
    assert "How do I pay an invoice?" in customer.get(reverse("customer_knowledge_list")).content.decode()
    changed = agent.post(
        reverse("knowledge_article_edit", args=[article.pk]), {**data, "title_en": "Paying an invoice"}
    )
    assert changed.status_code == 302
    assert agent.post(reverse("knowledge_article_publish", args=[article.pk]), {"publish": "0"}).status_code == 302
    assert agent.get(reverse("knowledge_article_delete", args=[article.pk])).status_code == 200
    assert Article.objects.exists()  # asking deletes nothing
    assert agent.post(reverse("knowledge_article_delete", args=[article.pk])).status_code == 302
    assert not Article.objects.exists()
    assert list(AuditEvent.objects.filter(action__startswith="knowledge_article.").order_by("pk").values_list(
        "action", flat=True)) == ["knowledge_article.created", "knowledge_article.published",
                                  "knowledge_article.updated", "knowledge_article.unpublished",
                                  "knowledge_article.deleted"]  # fmt: skip


def test_a_title_without_its_text_is_shown_on_its_field(tenant, client_for) -> None:
    answer = client_for(tenant.admin).post(reverse("knowledge_article_create"), {"title_ru": "Оплата"})
    assert answer.status_code == 400
    assert answer.context["form"].errors == {"body_ru": ["Write the text for this title."]}
    assert not Article.objects.exists()


def test_a_customer_reads_an_article_in_its_language_else_the_other(tenant, client_for) -> None:
    both = _article(tenant, title_en="When is my invoice issued?", body_en="On the **first** day.",
                    title_ru="Когда выставляется счёт?", body_ru="В **первый** день месяца.")  # fmt: skip
    english_only = _article(tenant, title_en="Changing licences", body_en="Add seats.")
    customer = client_for(tenant.customer_admin)
    page = customer.get(reverse("customer_knowledge_article", args=[both.pk])).content.decode()
    assert "When is my invoice issued?" in page
    assert "On the <strong>first</strong> day." in page
    tenant.customer_admin.language = "ru"
    tenant.customer_admin.save(update_fields=["language"])
    page = customer.get(reverse("customer_knowledge_article", args=[both.pk])).content.decode()
    assert "Когда выставляется счёт?" in page
    assert "В <strong>первый</strong> день месяца." in page
    page = customer.get(reverse("customer_knowledge_article", args=[english_only.pk])).content.decode()
    assert 'lang="en">Changing licences' in page
    both.refresh_from_db()
    assert both.view_count == 2


def test_an_article_opened_from_a_suggestion_and_the_ticket_sent_after(tenant, client_for) -> None:
    article = _article(tenant)
    customer = client_for(tenant.customer_admin)
    form = customer.get(reverse("customer_ticket_create"))
    flow = form.context["form"]["flow"].value()
    assert len(flow) == 32
    assert f'data-flow="{flow}"' in form.content.decode()
    suggested = customer.get(reverse("customer_knowledge_suggest"), {"q": "paying invoices"}).json()
    assert suggested["articles"][0]["title"] == "How do I pay an invoice?"
    url = suggested["articles"][0]["url"]
    assert url == reverse("customer_knowledge_article", args=[article.pk])
    opened = customer.get(f"{url}?{urlencode({'from': 'ticket', 'flow': flow})}")
    assert opened.status_code == 200
    assert f"?flow={flow}" in opened.content.decode()  # back to the same form
    customer.get(f"{url}?{urlencode({'from': 'ticket', 'flow': flow})}")  # read again: one suggestion
    event = ArticleSuggestion.objects.get()
    assert (event.user, event.customer, event.ticket) == (tenant.customer_admin, tenant.customer, None)
    agent = client_for(tenant.agent)
    listing = agent.get(reverse("knowledge_article_list"))
    row = listing.context["page"].items[0]
    assert (row.view_count, row.opened_from_suggestion, row.opened_no_ticket) == (2, 1, 1)
    # Coming back to the form keeps its key; the ticket sent with it settles the suggestion.
    assert customer.get(reverse("customer_ticket_create"), {"flow": flow}).context["form"]["flow"].value() == flow
    sent = customer.post(reverse("customer_ticket_create"), {
        "subject": "Paying an invoice", "description": "The transfer bounced.", "category": "billing",
        "product_family": "microsoft_365", "severity": "C", "flow": flow,
    })  # fmt: skip
    assert sent.status_code == 302
    event.refresh_from_db()
    assert event.ticket == Ticket.objects.get()
    stats = agent.get(reverse("knowledge_article_edit", args=[article.pk])).context["stats"]
    assert stats == {"views": 2, "opened_from_suggestion": 1, "opened_no_ticket": 0}


def test_suggestions_are_the_customers_partners_published_articles_only(tenant, other_tenant, client_for) -> None:
    _article(tenant, title_en="Invoice payment by card", body_en="Card.")
    _article(tenant, publish=False, title_en="Invoice draft", body_en="Draft.")
    _article(other_tenant, title_en="Invoice of the other partner", body_en="Theirs.")
    answer = client_for(tenant.customer_admin).get(reverse("customer_knowledge_suggest"), {"q": "invoice"})
    assert [a["title"] for a in answer.json()["articles"]] == ["Invoice payment by card"]
    assert answer["Cache-Control"] == "private, no-store"
    assert client_for(tenant.customer_admin).get(reverse("customer_knowledge_suggest"), {"q": "in"}).json() == {
        "articles": []
    }


def test_who_may_open_which_page(tenant, client_for) -> None:
    article = _article(tenant)
    staff_urls = [reverse("knowledge_article_list"), reverse("knowledge_article_create"),
                  reverse("knowledge_article_edit", args=[article.pk]),
                  reverse("knowledge_article_delete", args=[article.pk])]  # fmt: skip
    for user in (tenant.finance, tenant.customer_admin, tenant.customer_member):
        client = client_for(user)
        for url in staff_urls:
            assert client.get(url).status_code == 403, (user.membership.role, url)
        assert client.post(reverse("knowledge_article_publish", args=[article.pk]), {"publish": "0"}).status_code == 403
        assert client.post(reverse("knowledge_article_delete", args=[article.pk])).status_code == 403
    article.refresh_from_db()
    assert article.status == "published"
    for user in (tenant.admin, tenant.finance, tenant.agent):
        assert client_for(user).get(reverse("customer_knowledge_list")).status_code == 403
        assert client_for(user).get(reverse("customer_knowledge_article", args=[article.pk])).status_code == 403


def test_another_partners_article_is_not_found(tenant, other_tenant, client_for) -> None:
    theirs = _article(other_tenant, title_en="Their secret article", body_en="Theirs.")
    agent = client_for(tenant.agent)
    for url in (reverse("knowledge_article_edit", args=[theirs.pk]),
                reverse("knowledge_article_delete", args=[theirs.pk])):  # fmt: skip
        assert agent.get(url).status_code == 404
    assert (
        agent.post(
            reverse("knowledge_article_edit", args=[theirs.pk]), {"title_en": "Mine", "body_en": "x"}
        ).status_code
        == 404
    )
    assert agent.post(reverse("knowledge_article_publish", args=[theirs.pk]), {"publish": "0"}).status_code == 404
    assert agent.post(reverse("knowledge_article_delete", args=[theirs.pk])).status_code == 404
    assert "Their secret article" not in agent.get(reverse("knowledge_article_list")).content.decode()
    customer = client_for(tenant.customer_admin)
    assert customer.get(reverse("customer_knowledge_article", args=[theirs.pk])).status_code == 404
    opened = customer.get(reverse("customer_knowledge_article", args=[theirs.pk]), {"from": "ticket", "flow": "a" * 32})
    assert opened.status_code == 404
    assert "Their secret article" not in customer.get(reverse("customer_knowledge_list")).content.decode()
    theirs.refresh_from_db()
    assert (str(theirs), theirs.status, theirs.view_count) == ("Their secret article", "published", 0)
    assert not ArticleSuggestion.objects.exists()


def test_the_lists_search_filter_sort_and_page_in_a_fixed_number_of_queries(
    tenant, client_for, django_assert_max_num_queries
) -> None:
    for i in range(30):
        _article(tenant, publish=i % 2 == 0, title_en=f"Article {i:02d}",
                 body_en=f"About {'invoices' if i % 3 == 0 else 'licences'}.")  # fmt: skip
    agent = client_for(tenant.agent)
    url = reverse("knowledge_article_list")
    with django_assert_max_num_queries(10):
        first = agent.get(url)
    page = first.context["page"]
    assert [a.sort_title for a in page.items][:2] == ["Article 00", "Article 01"]
    assert len(page.items) == 25
    with django_assert_max_num_queries(10):
        second = agent.get(f"{url}?{urlencode({'cursor': page.next_cursor})}")
    assert len(second.context["page"].items) == 5
    with django_assert_max_num_queries(10):
        found = agent.get(f"{url}?{urlencode({'q': 'invoice', 'status': 'published', 'sort': '-title'})}")
    assert [a.sort_title for a in found.context["page"].items] == [f"Article {i:02d}" for i in (24, 18, 12, 6, 0)]
    customer = client_for(tenant.customer_admin)
    with django_assert_max_num_queries(10):
        mine = customer.get(reverse("customer_knowledge_list"))
    assert len(mine.context["page"].items) == 15  # the published ones
    with django_assert_max_num_queries(10):
        searched = customer.get(reverse("customer_knowledge_list"), {"q": "licences"})
    assert len(searched.context["page"].items) == 10


def test_the_customers_support_page_and_home_lead_to_the_knowledge_base(tenant, client_for) -> None:
    customer = client_for(tenant.customer_admin)
    assert reverse("customer_knowledge_list") in customer.get(reverse("customer_support")).content.decode()
    assert reverse("customer_knowledge_list") in customer.get(reverse("customer_home")).content.decode()
