"""The list pages' one scaffold: a filter form, a sort, keyset pages, the count, links that keep filters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from partner_portal.access import ScopedViewMixin
from partner_portal.pagination import keyset_page, query_without


class KeysetListView(ScopedViewMixin, TemplateView):
    """A staff or customer list page in a fixed number of queries, whatever the page number.

    Subclasses name their filter form (its `sort` field picks a key of `sorts`: the field or annotation
    and whether it descends) and return the scoped rows for the valid form (None when it is not valid)
    with whether any filter is on. The template, which extends `components/list_page.html`, gets
    `form`, `page`, `total`, `total_label`, `sort`, `filtered`, `pagination_label`, and the query strings
    `query` (without the cursor) and `sort_query` (without cursor and sort).

    The count stops at `count_limit`: counting a million rows costs a scan of them all on every page,
    so past the limit `total` is the limit (for the plural) and `total_label` reads "10,000+".
    """

    filter_form_class: ClassVar[type[forms.Form]]
    # Forms whose choices depend on the partner (a customer select) take the request's scope.
    filter_form_scoped: ClassVar[bool] = False
    sorts: ClassVar[Mapping[str, tuple[str, bool]]]
    default_sort: ClassVar[str]
    page_size: ClassVar[int] = 25
    count_limit: ClassVar[int] = 10_000
    # What a screen reader announces for the page links ("Pages of invoices").
    pagination_label: ClassVar[Promise | str] = _("Pages")

    def get_filter_form(self) -> forms.Form:
        if self.filter_form_scoped:
            return self.filter_form_class(self.request.GET or None, scope=self.scope)  # type: ignore[call-arg]
        return self.filter_form_class(self.request.GET or None)

    def list_rows(self, form: forms.Form | None) -> tuple[QuerySet[Any], bool]:
        raise NotImplementedError

    def count_rows(self, rows: QuerySet[Any]) -> int:
        """How many rows the filters select, up to one past `count_limit` (`COUNT(*)` over a `LIMIT`);
        override to count without the annotations of the page."""
        return rows.order_by()[: self.count_limit + 1].count()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = self.get_filter_form()
        valid = form.is_valid()
        sort = (form.cleaned_data.get("sort") if valid else "") or self.default_sort
        sort = sort if sort in self.sorts else self.default_sort
        rows, filtered = self.list_rows(form if valid else None)
        key, descending = self.sorts[sort]
        counted = self.count_rows(rows)
        page = keyset_page(
            rows, sort_field=key, descending=descending, cursor=self.request.GET.get("cursor"), size=self.page_size
        )
        return super().get_context_data(
            form=form,
            page=page,
            total=min(counted, self.count_limit),
            total_label=intcomma(min(counted, self.count_limit)) + ("+" if counted > self.count_limit else ""),
            sort=sort,
            filtered=filtered,
            query=query_without(self.request, "cursor"),
            sort_query=query_without(self.request, "cursor", "sort"),
            pagination_label=self.pagination_label,
            **kwargs,
        )
