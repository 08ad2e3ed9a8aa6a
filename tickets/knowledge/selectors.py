"""Reads of the knowledge base, always through a Scope: a partner's staff see every article of the
partner, a customer user the published ones of its partner (ArticleQuerySet.for_customer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from partner_portal.tenancy import Scope, get_scoped_or_404
from tickets.knowledge import search
from tickets.knowledge.models import Article, ArticleSuggestion
from tickets.knowledge.rendering import plain_text

# Sort keys the lists offer: name -> (model field, descending).
ARTICLE_SORTS: dict[str, tuple[str, bool]] = {
    "title": ("sort_title", False),
    "-title": ("sort_title", True),
    "-updated": ("updated_at", True),
    "-views": ("view_count", True),
}
CUSTOMER_ARTICLE_SORTS: dict[str, tuple[str, bool]] = {
    "title": ("sort_title", False),
    "-views": ("view_count", True),
}
# Suggestions on the new ticket page: this many, the best matches first.
SUGGESTIONS = 5
SUGGEST_MIN_CHARS = 3


@dataclass(frozen=True)
class ArticleFilters:
    search: str = ""  # full-text, English and Russian
    status: str = ""
    category: str = ""


def _count(rows: QuerySet[ArticleSuggestion]) -> Coalesce:
    counted = rows.order_by().values("article").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _filtered(qs: QuerySet[Article], filters: ArticleFilters) -> QuerySet[Article]:
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.search:
        qs = search.search(qs, filters.search)
    return qs


def article_list(*, scope: Scope, filters: ArticleFilters | None = None) -> QuerySet[Article]:
    """The partner's articles for its staff, searched and filtered, each with `opened_from_suggestion`
    (times a customer opened it from the suggestions on a new ticket) and `opened_no_ticket` (of those,
    the ones whose ticket was not sent)."""
    qs = _filtered(Article.objects.for_scope(scope), filters or ArticleFilters())
    opened = ArticleSuggestion.objects.filter(article=OuterRef("pk"))
    return qs.annotate(
        opened_from_suggestion=_count(opened), opened_no_ticket=_count(opened.filter(ticket__isnull=True))
    )


def article_get(*, scope: Scope, pk: int | str) -> Article:
    """One article: any of the partner's for its staff, a published one of its partner for a customer
    user. Another partner's (or a draft, for a customer) is a 404."""
    return get_scoped_or_404(Article.objects.all(), scope, pk=pk)


def article_stats(*, scope: Scope, article: Article) -> dict[str, int]:
    """What was counted of one article, for its staff page."""
    opened = ArticleSuggestion.objects.for_scope(scope).filter(article=article)
    counts = opened.aggregate(opened=Count("pk"), no_ticket=Count("pk", filter=Q(ticket__isnull=True)))
    return {"views": article.view_count, "opened_from_suggestion": counts["opened"],
            "opened_no_ticket": counts["no_ticket"]}  # fmt: skip


def customer_article_list(*, scope: Scope, filters: ArticleFilters | None = None) -> QuerySet[Article]:
    """The published articles of the customer's partner, searched."""
    filters = filters or ArticleFilters()
    return _filtered(Article.objects.for_scope(scope), ArticleFilters(search=filters.search, category=filters.category))


def article_suggest(*, scope: Scope, text: str, language: str, limit: int = SUGGESTIONS) -> list[dict[str, Any]]:
    """The articles best matching a new ticket's subject, for the customer's suggestions: id, title and
    a short excerpt in `language` (else the other one). Nothing for fewer than three letters."""
    text = " ".join(text.split())
    if len(text) < SUGGEST_MIN_CHARS:
        return []
    qs = search.search(Article.objects.for_scope(scope), text, any_word=True).order_by("-rank", "sort_title", "pk")
    found = []
    for article in qs.only("pk", "title_en", "title_ru", "body_en", "body_ru")[:limit]:
        title, body, code = article.text_for(language)
        excerpt = plain_text(body)
        found.append({"id": article.pk, "title": title, "excerpt": excerpt[:160] + ("…" if len(excerpt) > 160 else ""),
                      "language": code})  # fmt: skip
    return found
