"""The caller's API tokens as a section of their security page (allauth's two-factor page)."""

from __future__ import annotations

from typing import Any

from django import template

from partner_portal import clock, selectors
from partner_portal.tenancy import request_scope

register = template.Library()

# A person holds a token per integration: a handful. The page shows this many, newest first.
OWN_TOKENS_SHOWN = 50


@register.inclusion_tag("portal/_api_tokens_own.html", takes_context=True)
def api_tokens_own(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    scope = request_scope(request)
    tokens = list(selectors.api_tokens_own(scope=scope)[:OWN_TOKENS_SHOWN]) if scope is not None else []
    return {"member": scope is not None, "tokens": tokens, "now": clock.now(), "csrf_token": context.get("csrf_token")}
