"""`{% load collections %}`: small helpers of the collections pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from billing.collections.models import CollectionStep
from billing.collections.selectors import CollectionsStatus
from billing.collections.wording import policy_in_words

register = template.Library()


@register.filter
def action_name(action: str) -> str:
    """A collections step's action as the pages name it: "final_notice" -> "Final notice"."""
    return str(CollectionStep.Action(action).label) if action in CollectionStep.Action.values else action


# The badge's colour by action: how harsh the step is.
BADGE_CLASSES: dict[str, str] = {
    CollectionStep.Action.SUSPEND: "badge-danger",
    CollectionStep.Action.FINAL_NOTICE: "badge-warning",
}


@register.simple_tag
def action_badge(action: str, label: object) -> SafeString:
    """A collections step as a badge: `{% action_badge notice.action notice.get_action_display %}`
    (a tag, not an include: the overview draws two a row)."""
    return format_html('<span class="badge {}">{}</span>', BADGE_CLASSES.get(action, "badge-info"), label)


@register.filter
def absolute(value: int | None) -> int:
    """The number without its sign: a step 3 days before the due date has the offset -3."""
    return abs(int(value or 0))


@register.filter
def policy_sentences(status: CollectionsStatus) -> list[str]:
    """The policy as it applies to the customer of `status`, in sentences of the active language."""
    return policy_in_words(
        policy=status.policy.policy,
        steps=status.policy.steps,
        credit_days=status.credit_days,
        currency=status.currency,
        extra_grace_days=status.extra_grace_days,
        exempt=status.exempt,
    )
