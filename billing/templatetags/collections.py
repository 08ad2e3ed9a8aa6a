"""`{% load collections %}`: small helpers of the collections pages."""

from __future__ import annotations

from django import template

from billing.collections.models import CollectionStep

register = template.Library()


@register.filter
def action_name(action: str) -> str:
    """A collections step's action as the pages name it: "final_notice" -> "Final notice"."""
    return str(CollectionStep.Action(action).label) if action in CollectionStep.Action.values else action


@register.filter
def absolute(value: int | None) -> int:
    """The number without its sign: a step 3 days before the due date has the offset -3."""
    return abs(int(value or 0))
