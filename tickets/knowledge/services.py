"""Knowledge base articles: saving (checked, audited), publishing, deleting, counting views, and the
suggestions a customer opened while writing a ticket.

A flow is the random key of one new ticket form (`new_flow`): the suggestion links carry it, opening an
article with it records an ArticleSuggestion, and the ticket sent with it marks those as followed by a
ticket. The key is no secret: it only ever names the signed-in user's own rows.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from tickets.errors import ArticleInvalid
from tickets.knowledge.models import Article, ArticleSuggestion
from tickets.models import Ticket

TITLE_MAX = 200
BODY_MAX = 50_000
LANGUAGES = ("en", "ru")
_FLOW = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class ArticleInput:
    """What the form sets."""

    title_en: str = ""
    title_ru: str = ""
    body_en: str = ""
    body_ru: str = ""
    category: str = ""


def _errors(data: ArticleInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    written = 0
    for code in LANGUAGES:
        title, body = getattr(data, f"title_{code}").strip(), getattr(data, f"body_{code}").strip()
        if len(title) > TITLE_MAX:
            errors[f"title_{code}"] = [_("A title has at most %(max)d characters.") % {"max": TITLE_MAX}]
        if len(body) > BODY_MAX:
            errors[f"body_{code}"] = [_("A text has at most %(max)d characters.") % {"max": BODY_MAX}]
        if title and not body:
            errors.setdefault(f"body_{code}", []).append(_("Write the text for this title."))
        elif body and not title:
            errors.setdefault(f"title_{code}", []).append(_("Give this text a title."))
        elif title and body:
            written += 1
    if not written and not errors:
        errors["title_en"] = [_("Write the article in English, in Russian or in both: a title and a text.")]
    if data.category and data.category not in Ticket.Category.values:
        errors["category"] = [_("Choose one of the categories.")]
    return errors


def _changed(article: Article, data: ArticleInput) -> list[str]:
    names = ("title_en", "title_ru", "body_en", "body_ru", "category")
    return [name for name in names if getattr(article, name) != getattr(data, name).strip()]


@transaction.atomic
def article_save(
    *, partner: Partner, actor: User | None, data: ArticleInput, article: Article | None = None
) -> Article:
    """Create an article (`article` None, as a draft) or change one. Refused as a whole with a message
    per field (ArticleInvalid): a language written has both its title and its text, and one language at
    least is written. Audited with the fields changed; status and views are left as they are."""
    if article is not None and article.partner_id != partner.pk:
        raise ArticleInvalid(_("The article belongs to another partner."))
    errors = _errors(data)
    if errors:
        raise ArticleInvalid(fields=errors)
    created = article is None
    article = Article(partner=partner, created_by=actor) if article is None else (
        Article.objects.select_for_update().get(pk=article.pk)
    )  # fmt: skip
    changed = _changed(article, data)
    if not created and not changed:
        return article
    for name in ("title_en", "title_ru", "body_en", "body_ru", "category"):
        setattr(article, name, getattr(data, name).strip())
    article.sort_title = (article.title_en or article.title_ru)[:200]
    article.updated_at, article.updated_by = clock.now(), actor
    article.save()
    audit_record(
        partner=partner, actor=actor, action="knowledge_article.created" if created else "knowledge_article.updated",
        target=article, data={"title": str(article), "changed": changed},
    )  # fmt: skip
    return article


@transaction.atomic
def article_publish(*, partner: Partner, actor: User | None, article: Article, publish: bool) -> Article:
    """Publish an article to the partner's customers (`publish`) or take it back to a draft. Audited;
    asking for the status it has changes nothing."""
    if article.partner_id != partner.pk:
        raise ArticleInvalid(_("The article belongs to another partner."))
    article = Article.objects.select_for_update().get(pk=article.pk)
    status = Article.Status.PUBLISHED if publish else Article.Status.DRAFT
    if article.status == status:
        return article
    article.status = status
    if publish:
        article.published_at = clock.now()
    article.updated_at, article.updated_by = clock.now(), actor
    article.save(update_fields=["status", "published_at", "updated_at", "updated_by"])
    audit_record(
        partner=partner, actor=actor,
        action="knowledge_article.published" if publish else "knowledge_article.unpublished",
        target=article, data={"title": str(article)},
    )  # fmt: skip
    return article


@transaction.atomic
def article_delete(*, partner: Partner, actor: User | None, article: Article) -> None:
    """Delete an article, with what was counted of it. Audited with its title and views."""
    if article.partner_id != partner.pk:
        raise ArticleInvalid(_("The article belongs to another partner."))
    article = Article.objects.select_for_update().get(pk=article.pk)
    audit_record(
        partner=partner, actor=actor, action="knowledge_article.deleted", target=article,
        data={"title": str(article), "views": article.view_count},
    )  # fmt: skip
    article.delete()


def article_viewed(*, article: Article) -> None:
    """Count one view by a customer: one conditional UPDATE with F(), so views at once all count."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


def new_flow() -> str:
    """A fresh key for one new ticket form."""
    return secrets.token_hex(16)


def is_flow(value: object) -> bool:
    return isinstance(value, str) and bool(_FLOW.match(value))


def article_suggestion_opened(*, customer: Customer, user: User, article: Article, flow: str) -> None:
    """Record that `user` opened `article` from the suggestions of the new ticket form `flow`. Once per
    article and form however often it is opened; a malformed flow records nothing; an article of another
    partner is refused."""
    if article.partner_id != customer.partner_id:
        raise ArticleInvalid(_("The article belongs to another partner."))
    if not is_flow(flow):
        return
    ArticleSuggestion.objects.get_or_create(
        article=article, user=user, flow=flow,
        defaults={"partner_id": customer.partner_id, "customer": customer, "opened_at": clock.now()},
    )  # fmt: skip


def article_suggestions_ticket_sent(*, user: User, flow: object, ticket: Ticket) -> int:
    """The ticket `user` sent from the form `flow`: the articles opened from that form's suggestions
    did not answer the question. Returns how many were marked."""
    if not is_flow(flow):
        return 0
    return ArticleSuggestion.objects.filter(
        user=user, flow=flow, customer_id=ticket.customer_id, ticket__isnull=True
    ).update(ticket=ticket)
