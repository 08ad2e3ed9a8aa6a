"""Keyset pagination for pages and the API: a fixed cost per page whatever the page number."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.views import APIView

_M = TypeVar("_M", bound=models.Model)


class ApiCursorPagination(CursorPagination):
    """DRF's cursor pagination: keyset on `ordering`, opaque cursors, page size up to 200.

    A page size out of range is a 400 with its field, as the schema says, not DRF's silent default;
    a cursor that cannot be read (edited, or from an older release) gives the first page, as on pages.
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return int(self.page_size or 50)
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            message = _("Enter a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
            raise ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            return None

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


@dataclass
class KeysetPage(Generic[_M]):
    items: list[_M]
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


def _encode(values: list[Any], direction: str) -> str:
    raw = json.dumps({"v": values, "d": direction}, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[list[Any], str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        values, direction = payload["v"], payload["d"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if direction not in ("next", "prev") or not isinstance(values, list) or len(values) != 2:
        return None
    return values, direction


def _key_field(queryset: models.QuerySet[Any], key: str) -> models.Field[Any, Any]:
    """The field that reads and writes `key`'s values: the annotation's output field, or the model's."""
    annotation = queryset.query.annotations.get(key)
    if annotation is not None:
        return annotation.output_field
    field = queryset.model._meta.get_field(key)
    if not isinstance(field, models.Field) or field.null:
        raise ValueError(f"cannot page on {key}: a non-null concrete field or annotation is needed")
    return field


def keyset_page(
    queryset: models.QuerySet[_M], *, sort_field: str, descending: bool, cursor: str | None, size: int
) -> KeysetPage[_M]:
    """One page of `queryset` ordered by (sort_field, pk). A bad or stale cursor gives the first page.

    `sort_field` is a non-null concrete field or a non-null annotation of the queryset (an overdue total,
    a date of the last notice); pk breaks ties so every row has one place.
    """
    field = _key_field(queryset, sort_field)
    decoded = _decode(cursor) if cursor else None
    direction = decoded[1] if decoded else "next"
    backwards = direction == "prev"
    # Walking backwards reads the reversed order and flips the page afterwards.
    desc = descending != backwards
    order = [f"-{sort_field}", "-pk"] if desc else [sort_field, "pk"]
    qs = queryset.order_by(*order)
    if decoded:
        try:
            value = field.to_python(decoded[0][0])
            pk = int(decoded[0][1])
        except (ValueError, TypeError, Exception):  # noqa: BLE001 - any malformed cursor means "start over"
            value, pk, decoded = None, 0, None
        if decoded:
            op = "lt" if desc else "gt"
            # (field, pk) after the cursor. The redundant `field >= value` bound lets PostgreSQL
            # walk the (partner, field, id) index from the cursor instead of filtering every row.
            qs = qs.filter(**{f"{sort_field}__{op}e": value}).filter(
                Q(**{f"{sort_field}__{op}": value}) | Q(**{f"pk__{op}": pk})
            )
    rows = list(qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def key(obj: _M) -> list[Any]:
        value = getattr(obj, field.attname if sort_field not in queryset.query.annotations else sort_field)
        return [value.isoformat() if hasattr(value, "isoformat") else str(value), obj.pk]

    at_start = not decoded or (backwards and not has_more)
    at_end = (not backwards and not has_more) or not rows
    next_cursor = _encode(key(rows[-1]), "next") if rows and (backwards or not at_end) else None
    prev_cursor = _encode(key(rows[0]), "prev") if rows and not at_start else None
    return KeysetPage(items=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)


def query_without(request: HttpRequest, *names: str) -> str:
    """The request's query string without `names` (the cursor, the sort), for links that keep filters."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
