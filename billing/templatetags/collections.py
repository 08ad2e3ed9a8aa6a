"""`{% load collections %}`: small helpers of the collections pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def absolute(value: int | None) -> int:
    """The number without its sign: a step 3 days before the due date has the offset -3."""
    return abs(int(value or 0))
