from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from partner_portal.tenancy import request_scope


def portal(request: HttpRequest) -> dict[str, Any]:
    """`scope` for navigation by role, in every template."""
    return {"scope": request_scope(request)}
