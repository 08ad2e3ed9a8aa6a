"""The pieces every app's API is built from, written once: the error handler and the scoped fields.

Every refusal answers one body, `{"detail": str, "code": str, "fields": {name: [messages]}}`:
a domain error (`partner_portal.errors.PortalError`) with the status of its kind, a serializer's
validation error as 400 `invalid` with its per-field messages, and DRF's own errors (404, 403, 405,
429 ...) with their status and code.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from partner_portal import selectors
from partner_portal.errors import PortalError

NON_FIELD = "non_field_errors"
INT_MAX = 2**31 - 1  # the largest value of an integer column: the max_value of every integer input stored in one


def refusal(*, detail: str, code: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"detail": detail, "code": code, "fields": fields or {}}


def _first_message(fields: dict[str, Any]) -> str:
    for name, messages in fields.items():
        while isinstance(messages, dict | list) and messages:
            messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
        if messages:
            return str(messages) if name == NON_FIELD else f"{name}: {messages}"
    return "Invalid input."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django's own 404 and 403 (get_object_or_404, a scoped lookup) answer the same body as DRF's.
    if isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied()
    if isinstance(exc, PortalError):
        return Response(refusal(detail=str(exc), code=exc.error_code(), fields=exc.fields), status=int(exc.kind))
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, APIException):
        return response
    if isinstance(exc, ValidationError):
        detail = response.data if isinstance(response.data, dict) else {NON_FIELD: response.data}
        response.data = refusal(detail=_first_message(detail), code="invalid", fields=detail)
    else:
        codes = exc.get_codes()
        response.data = refusal(
            detail=str(response.data.get("detail", "")) if isinstance(response.data, dict) else str(exc),
            code=codes if isinstance(codes, str) else exc.default_code,
        )
    return response


@csrf_exempt  # it changes nothing, and a DELETE to a mistyped path must get this 404, not a CSRF page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """A path under /api/ that names no endpoint (an id that is not a number, a mistyped name): the
    API's 404 body, not the HTML page meant for people."""
    return JsonResponse(refusal(detail=_("Not found."), code="not_found"), status=404)


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as text only: DRF's UUIDField also takes a number (uuid.UUID(int=...)), which the
    schema, a string of format uuid, does not allow."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class ScopedCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer of the caller's scope, by id: another partner's customer is "does not exist"."""

    def get_queryset(self) -> Any:
        return selectors.customer_list(scope=self.context["view"].scope)


def query_params(serializer_class: type[serializers.Serializer], request: Any) -> dict[str, Any]:
    """A list endpoint's filters: the query string read by `serializer_class` (one per list, named
    `<Thing>Query`), so a bad value answers 400 with its field instead of being ignored."""
    params = request.query_params
    repeated = [str(name) for name in serializer_class().fields if len(params.getlist(name)) > 1]
    if repeated:  # ?customer=1&customer=2 would otherwise quietly mean the last one
        raise ValidationError({name: [_("Give this filter once.")] for name in repeated})
    form = serializer_class(data={name: params.get(name) for name in params})
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)
