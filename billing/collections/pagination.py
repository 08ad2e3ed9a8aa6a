"""Keyset pages over annotated querysets (the collections overview sorts by computed columns)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import (
    Q,
    QuerySet,
)


@dataclass
class AnnotatedPage:
    items: list[Any]
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


def _encode(value: Any, pk: int, direction: str) -> str:
    raw = json.dumps({"v": [str(value), pk], "d": direction}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse(kind: str, text: str) -> Any:
    if kind == "decimal":
        return Decimal(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    return text


def _decode(cursor: str, kind: str) -> tuple[Any, int, str] | None:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        (text, pk), direction = payload["v"], payload["d"]
        if direction not in ("next", "prev"):
            return None
        return _parse(kind, str(text)), int(pk), direction
    except (ValueError, KeyError, TypeError, binascii.Error, InvalidOperation):
        return None


def keyset_page_annotated(
    queryset: QuerySet[Any], *, key: str, kind: str, descending: bool, cursor: str | None, size: int
) -> AnnotatedPage:
    """Like partner_portal.pagination.keyset_page, for a non-null annotation or field `key` of type
    `kind` ("decimal", "date" or "text"): one query per page, whatever the page number."""
    decoded = _decode(cursor, kind) if cursor else None
    backwards = bool(decoded and decoded[2] == "prev")
    desc = descending != backwards
    qs = queryset.order_by(f"-{key}", "-pk") if desc else queryset.order_by(key, "pk")
    if decoded:
        value, pk, _direction = decoded
        op = "lt" if desc else "gt"
        qs = qs.filter(Q(**{f"{key}__{op}": value}) | Q(**{key: value, f"pk__{op}": pk}))
    rows = list(qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def value_of(obj: Any) -> Any:
        return getattr(obj, key)

    at_start = not decoded or (backwards and not has_more)
    at_end = (not backwards and not has_more) or not rows
    next_cursor = _encode(value_of(rows[-1]), rows[-1].pk, "next") if rows and (backwards or not at_end) else None
    prev_cursor = _encode(value_of(rows[0]), rows[0].pk, "prev") if rows and not at_start else None
    return AnnotatedPage(items=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)
