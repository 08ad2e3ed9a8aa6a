"""The OpenAPI schema tells the truth about refusals: every operation lists the statuses it can answer.

The API kit answers every refusal with one body (`partner_portal.apikit.refusal`). Which refusals an
operation can give follows from its shape, so they are added here once instead of on every view:

- every operation that needs a signed-in caller: 401 (no or bad credentials) and 403 (role or MFA);
- an operation on one object (a path parameter): 404, also for another partner's object;
- a write (POST, PUT, PATCH): 400 for invalid input, 409 when the object's state refuses the change,
  413 for a body over the limit, 415 for a body that is not JSON, a form or multipart;
- a DELETE: 409 (an issued invoice, say);
- a read with query parameters (filters, search, page size, cursor): 400 for a bad one;
- a throttled operation: 429.

A status a view declares itself (422 for an escalation without entitlement) keeps its description and
gets the same body.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_BODY = inline_serializer(
    "Error",
    {
        "detail": serializers.CharField(help_text="What was refused, in the caller's language."),
        "code": serializers.CharField(help_text="A stable code for programs, e.g. invoice_not_editable."),
        "fields": serializers.DictField(
            child=serializers.JSONField(),
            help_text="The input fields at fault, each with its list of messages (for a list of objects, such as "
            "an invoice's lines, one object of fields per item); empty when the refusal is not about a field.",
        ),
    },
)

DESCRIPTIONS = {
    "400": "Invalid input: `fields` names each field at fault.",
    "401": "No credentials, or a token that is unknown, expired or revoked.",
    "403": "The caller's role may not do this, or the second factor is still needed.",
    "404": "No such object for this caller (also another partner's or another customer's).",
    "409": "The object's state does not allow this change.",
    "413": "The request body is larger than the portal accepts.",
    "415": "The request body is not JSON, a form or multipart.",
    "422": "Valid and allowed, but it cannot be done here; `detail` says what is missing.",
    "429": "Too many attempts; wait and try again.",
}

WRITES = {"POST", "PUT", "PATCH"}


def field_allows_blank(field: Any) -> bool:
    """Whether the field takes or gives "": its own flag, or for a read-only model field (DRF drops
    allow_blank there) the model field's blank."""
    if field.allow_blank:
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:  # a property or a method, not a column
        return False


class PortalAutoSchema(AutoSchema):
    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        # DRF drops allow_blank from read-only model fields; a blank choice column still answers "".
        if isinstance(field, serializers.ChoiceField) and not field.allow_blank and field_allows_blank(field):
            field.allow_blank = True
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # A text input that may not be blank says so (DRF refuses "" unless allow_blank).
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and schema.get("type") == "string"
            and "enum" not in schema
        ):
            schema.setdefault("minLength", 1)
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        # A blank-allowed email or URL field answers "" when unset, which its format alone would refuse.
        if isinstance(field, serializers.CharField) and field_allows_blank(field) and "format" in schema:
            schema["anyOf"] = [{"format": schema.pop("format")}, {"maxLength": 0}]

    def _error_statuses(self) -> set[str]:
        statuses: set[str] = set()
        if not any(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            statuses |= {"401", "403"}
        if "{" in self.path:
            statuses.add("404")
        if self.method in WRITES:
            statuses |= {"400", "409", "413", "415"}
        elif self.method == "DELETE":
            statuses.add("409")
        elif self._has_query_parameters():
            statuses.add("400")
        if getattr(self.view, "throttle_classes", None):
            statuses.add("429")
        return statuses

    def _has_query_parameters(self) -> bool:
        parameters = self._get_parameters()
        return any(parameter.get("in") == "query" for parameter in parameters)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        declared = {code for code in responses if code.startswith(("4", "5"))}
        for code in sorted(self._error_statuses() | declared):
            described = responses.get(code, {}).get("description")
            if described == "No response body":
                described = None
            body = self._get_response_for_code(ERROR_BODY, code, direction=direction)
            body["description"] = described or DESCRIPTIONS.get(code, body.get("description", ""))
            responses[code] = body
        return responses
