"""The API's JSON parser, kept apart from the API kit: REST framework's settings import it while
`rest_framework.views` is still loading, so it must not import the views module itself."""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import JSONParser as DRFJSONParser

NON_FIELD = "non_field_errors"  # REST framework's key for errors of the whole body
MAX_JSON_DEPTH = 32  # objects and arrays inside each other; no request of ours needs more than a few


class RequestTooLarge(APIException):
    status_code = 413
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "request_too_large"


def _check_json(data: Any) -> None:
    """Refuse what parses as JSON but no field or column takes: a NUL character or a lone surrogate
    in any string (key or value), and nesting deeper than MAX_JSON_DEPTH. Walked without recursion."""
    stack: list[tuple[Any, list[str], int]] = [(data, [], 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidText(path, _("Null characters are not allowed."))
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidText(path, _("Text must be valid Unicode; lone surrogates are not allowed.")) from None
            continue
        if not isinstance(value, Mapping | list):
            continue
        if depth >= MAX_JSON_DEPTH:
            raise ParseError(_("The JSON is nested too deeply."))
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        for key, item in items:
            stack.append((key, path, depth + 1))
            stack.append((item, [*path, str(key)], depth + 1))


class InvalidText(ValidationError):
    """A string in the body no field accepts, refused as a 400 on the field it was sent in."""

    def __init__(self, path: list[str], message: str) -> None:
        name = path[0] if path else NON_FIELD
        super().__init__({name: [message]}, code="invalid")


class JSONParser(DRFJSONParser):
    """DRF's JSON parser with the limits its own does not keep: the body's size
    (DATA_UPLOAD_MAX_MEMORY_SIZE, 413), its nesting depth, and text a database cannot store
    (NUL characters, lone surrogates), each refused as a 400 instead of failing later as a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        try:
            data = json.loads(codecs.decode(raw, encoding), parse_constant=_no_constant)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        _check_json(data)
        return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
