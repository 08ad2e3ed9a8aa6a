"""Forms of the canned reply pages. The rules (variables, one text at least, unique title) are the
service's; the form takes its messages onto the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.canned.models import CannedReply
from tickets.canned.selectors import CannedReplyFilters
from tickets.canned.services import BODY_MAX, TITLE_MAX, CannedReplyInput


class CannedReplyFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("-used", _("Most used first")), ("title", _("Title (A–Z)")), ("-title", _("Title (Z–A)")),
                 ("-updated", _("Recently changed"))],
    )  # fmt: skip

    def filters(self) -> CannedReplyFilters:
        return CannedReplyFilters(search=(self.cleaned_data.get("q") or "").strip()[:100])


class CannedReplyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX, help_text=_("What agents pick it by."))
    body_en = forms.CharField(
        label=_("Text in English"), required=False, max_length=BODY_MAX, strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )  # fmt: skip
    body_ru = forms.CharField(
        label=_("Text in Russian"), required=False, max_length=BODY_MAX, strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )  # fmt: skip

    def __init__(self, *args: Any, reply: CannedReply | None = None, **kwargs: Any) -> None:
        if reply is not None:
            kwargs.setdefault("initial", {"title": reply.title, "body_en": reply.body_en, "body_ru": reply.body_ru})
        super().__init__(*args, **kwargs)

    def reply_input(self) -> CannedReplyInput:
        d = self.cleaned_data
        return CannedReplyInput(title=d["title"], body_en=d.get("body_en") or "", body_ru=d.get("body_ru") or "")

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
