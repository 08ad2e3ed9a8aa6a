"""A partner's knowledge base articles, and what customers open from the suggestions on a new ticket."""

from __future__ import annotations

from typing import Self

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.tenancy import TenantQuerySet
from tickets.models import Ticket


class ArticleQuerySet(TenantQuerySet["Article"]):
    # An article belongs to no customer: the partner's staff see them all, each of its customers the
    # published ones (for_customer below).
    customer_lookup = None

    def for_customer(self, customer: Customer) -> Self:
        return self.filter(partner_id=customer.partner_id, status=Article.Status.PUBLISHED)


class Article(models.Model):
    """An article: a title and a Markdown text in English and in Russian (one language at least).
    Customers read the text of their page's language, else the other one. `view_count` moves each time a
    customer opens it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    title_ru = models.CharField(_("title in Russian"), max_length=200, blank=True)
    body_en = models.TextField(_("text in English"), blank=True)
    body_ru = models.TextField(_("text in Russian"), blank=True)
    category = models.CharField(_("category"), max_length=32, choices=Ticket.Category.choices, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The staff list's sort by title: the English title, else the Russian one (kept by the service).
    sort_title = models.CharField(max_length=200, editable=False, default="")

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("knowledge base article")
        verbose_name_plural = _("knowledge base articles")
        ordering = ["sort_title", "pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(title_en="", title_ru=""), name="article_has_a_title"),
            models.CheckConstraint(condition=models.Q(status__in=["draft", "published"]), name="article_status_known"),
        ]
        indexes = [
            # The lists' sorts, each ending with the keyset's id; customers read the published ones.
            models.Index(fields=["partner", "sort_title", "id"], name="article_partner_title_idx"),
            models.Index(fields=["partner", "updated_at", "id"], name="article_partner_updated_idx"),
            models.Index(fields=["partner", "view_count", "id"], name="article_partner_views_idx"),
            models.Index(fields=["partner", "status", "sort_title", "id"], name="article_partner_status_idx"),
        ]

    def __str__(self) -> str:
        return self.sort_title or self.title_en or self.title_ru

    def text_for(self, language: str) -> tuple[str, str, str]:
        """(title, Markdown text, their language) for a reader of `language`: that language's, else the
        other one's (an article may be written in one language only)."""
        own, other = ("ru", "en") if language == "ru" else ("en", "ru")
        for code in (own, other):
            title, body = getattr(self, f"title_{code}"), getattr(self, f"body_{code}")
            if title and body:
                return title, body, code
        for code in (own, other):
            if getattr(self, f"title_{code}"):
                return getattr(self, f"title_{code}"), getattr(self, f"body_{code}"), code
        return "", "", own

    @property
    def display_title(self) -> str:
        """The title in the page's language, else the other one, for lists."""
        return self.text_for(translation.get_language() or "en")[0]

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ArticleSuggestionQuerySet(TenantQuerySet["ArticleSuggestion"]):
    customer_lookup = "customer"


class ArticleSuggestion(models.Model):
    """An article a customer user opened from the suggestions on the new ticket page. `flow` is the
    random key of that page's form; sending the ticket with it sets `ticket`. One opened whose ticket
    never came is a question the article answered ("opened, no ticket sent")."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="suggestions")
    flow = models.CharField(max_length=32)
    opened_at = models.DateTimeField(_("opened"), default=clock.now)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ArticleSuggestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("article opened from a suggestion")
        verbose_name_plural = _("articles opened from suggestions")
        constraints = [
            models.UniqueConstraint(fields=["article", "user", "flow"], name="article_suggestion_once_per_flow"),
        ]
        indexes = [
            models.Index(fields=["user", "flow"], name="article_suggestion_flow_idx"),
            models.Index(fields=["article", "ticket"], name="article_suggestion_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.article} ({self.opened_at:%Y-%m-%d %H:%M})"
