"""The health check load balancers and the container orchestrator poll: database and broker."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse

from config.celery import app as celery_app


def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker state as JSON; 503 when either is down. Public: it reveals no data."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the reason is reported
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = {"ok": True, "transport": conn.transport.driver_type}
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = {"ok": False, "error": exc.__class__.__name__}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "down", "checks": checks}, status=200 if ok else 503)
