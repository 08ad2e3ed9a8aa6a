"""`Idempotency-Key` for API creates: a retry with the same key replays the first answer and creates
nothing; the same key with a different body is refused with 422."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from billing.invoicing.models import IdempotencyKey
from partner_portal.tenancy import Scope

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def _fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        return Response(
            {"detail": f"This {HEADER} was used with a different request body."},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response(stored.response_body, status=stored.response_status, headers={"Idempotent-Replayed": "true"})


def idempotent(*, request: Request, scope: Scope, endpoint: str, create: Callable[[], Response]) -> Response:
    """Run `create` once per (partner, user, endpoint, key). Without the header it simply runs."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return create()
    if len(key) > MAX_KEY_LENGTH:
        return Response({"detail": f"{HEADER} is longer than {MAX_KEY_LENGTH} characters."}, status=400)
    fingerprint = _fingerprint(request.data)
    lookup = {"partner": scope.partner, "user": scope.user, "endpoint": endpoint, "key": key}
    stored = IdempotencyKey.objects.filter(**lookup).first()
    if stored is not None:
        return _replay(stored, fingerprint)
    try:
        # The created object and the key commit together: a crash between them leaves neither.
        with transaction.atomic():
            response = create()
            if status.is_success(response.status_code):
                IdempotencyKey.objects.create(
                    **lookup,
                    request_hash=fingerprint,
                    response_status=response.status_code,
                    response_body=response.data,
                )
    except IntegrityError:
        # A concurrent request with the same key won the race; its creation stands, this one is undone.
        winner = IdempotencyKey.objects.filter(**lookup).first()
        if winner is None:
            raise
        return _replay(winner, fingerprint)
    return response
