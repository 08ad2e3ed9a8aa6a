from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from partner_portal.tenancy import request_scope


def portal(request: HttpRequest) -> dict[str, Any]:
    """`scope` for navigation by role, in every template; whether Partner Center is deliberately not called."""
    return {
        "scope": request_scope(request),
        "partner_center_record_only": settings.PARTNER_CENTER_BACKEND == "record"
        and settings.PARTNER_CENTER_RECORD_ONLY,
    }
