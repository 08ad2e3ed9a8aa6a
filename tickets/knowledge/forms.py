"""Forms of the knowledge base pages. The rules (a language written in full, one at least) are the
service's; the form takes its messages onto the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.knowledge.models import Article
from tickets.knowledge.selectors import ArticleFilters
from tickets.knowledge.services import BODY_MAX, TITLE_MAX, ArticleInput
from tickets.models import Ticket


class ArticleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *Article.Status.choices])
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Ticket.Category.choices]
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("title", _("Title (A–Z)")), ("-title", _("Title (Z–A)")), ("-updated", _("Recently changed")),
                 ("-views", _("Most viewed first"))],
    )  # fmt: skip

    def filters(self) -> ArticleFilters:
        d = self.cleaned_data
        return ArticleFilters(
            search=(d.get("q") or "").strip()[:100], status=d.get("status") or "", category=d.get("category") or ""
        )


class CustomerArticleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Ticket.Category.choices]
    )
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[("title", _("Title (A–Z)")), ("-views", _("Most read first"))]
    )

    def filters(self) -> ArticleFilters:
        d = self.cleaned_data
        return ArticleFilters(search=(d.get("q") or "").strip()[:100], category=d.get("category") or "")


def _text(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=BODY_MAX, strip=False, widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Markdown: # heading, **bold**, *italic*, [link](https://…), lists, `code`, tables."),
    )  # fmt: skip


class ArticleForm(forms.Form):
    title_en = forms.CharField(label=_("Title in English"), required=False, max_length=TITLE_MAX)
    body_en = _text(_("Text in English"))
    title_ru = forms.CharField(label=_("Title in Russian"), required=False, max_length=TITLE_MAX)
    body_ru = _text(_("Text in Russian"))
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("None")), *Ticket.Category.choices]
    )

    def __init__(self, *args: Any, article: Article | None = None, **kwargs: Any) -> None:
        if article is not None:
            names = ("title_en", "title_ru", "body_en", "body_ru", "category")
            kwargs.setdefault("initial", {name: getattr(article, name) for name in names})
        super().__init__(*args, **kwargs)

    def article_input(self) -> ArticleInput:
        d = self.cleaned_data
        return ArticleInput(
            title_en=d.get("title_en") or "", title_ru=d.get("title_ru") or "", body_en=d.get("body_en") or "",
            body_ru=d.get("body_ru") or "", category=d.get("category") or "",
        )  # fmt: skip

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
