"""The escalation box on the staff ticket page: `{% load escalation_tags %}{% escalation_panel ticket scope %}`.

The tickets app never imports escalation; its staff ticket template loads this tag, which is the one
place the two meet in a page. Customer scopes get nothing (customers see only the ticket's status).
"""

from __future__ import annotations

from typing import Any

from django import template

from escalation import selectors
from escalation.access import ESCALATION_WRITERS
from escalation.models import BreachNotice
from partner_portal.tenancy import Scope

register = template.Library()


@register.inclusion_tag("escalation/_panel.html")
def escalation_panel(ticket: Any, scope: Scope | None) -> dict[str, Any]:
    """The ticket's escalations (newest first), breach notices sent, and the way to escalate it. Two queries."""
    if scope is None or not scope.is_staff:
        return {"is_staff": False}
    escalations = selectors.ticket_escalations(scope=scope, ticket=ticket)
    notices = selectors.ticket_breach_notices(scope=scope, ticket=ticket)
    open_escalation = next((e for e in escalations if e.is_open), None)
    return {
        "is_staff": True,
        "ticket": ticket,
        "escalations": escalations,
        "notices": notices,
        "not_entitled": next((n for n in notices if n.kind == BreachNotice.Kind.NOT_ENTITLED), None),
        "open_escalation": open_escalation,
        "can_escalate": scope.has_role(ESCALATION_WRITERS)
        and open_escalation is None
        and ticket.status not in ("resolved", "closed"),
    }
