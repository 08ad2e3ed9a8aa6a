"""Where a log line comes from: the web request, the Celery task and the partner it works for.

The values live in context variables, set by `RequestIdMiddleware` for a web request, by
`request_scope()` once the signed-in user's partner is known, by `jobs.for_each_partner` for each
partner of a scheduled job, and by the Celery signals in `config.celery` for a task. A task queued while
they are set carries the request id and the partner id in its message headers, so one id follows a user
action from the web process into the worker. `JsonLineFormatter` (LOG_FORMAT=json) writes them into
every line.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller's X-Request-ID must look like to be kept: a short token (a UUID, a proxy's or a load
# balancer's trace id). Anything else (too long, spaces, quotes, control characters) is replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
FIELDS = ("request_id", "partner_id", "task_id", "task_name")
# The Celery message headers that carry the web side's context into the worker.
TASK_HEADERS = {"request_id": "portal_request_id", "partner_id": "portal_partner_id"}

_VARS: dict[str, contextvars.ContextVar[Any]] = {
    name: contextvars.ContextVar(f"portal_log_{name}", default=None) for name in FIELDS
}


def request_id_from(header: str | None) -> str:
    """The caller's request id if it is a sane token, else a new one."""
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current() -> dict[str, Any]:
    """The fields that are set, by name."""
    return {name: var.get() for name, var in _VARS.items() if var.get() is not None}


def bind(**values: Any) -> list[contextvars.Token[Any]]:
    """Set fields; returns what `unbind` needs to put the previous values back."""
    return [_VARS[name].set(value) for name, value in values.items()]


def unbind(tokens: list[contextvars.Token[Any]]) -> None:
    for token in reversed(tokens):
        token.var.reset(token)


def clear() -> None:
    for var in _VARS.values():
        var.set(None)


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    tokens = bind(**values)
    try:
        yield
    finally:
        unbind(tokens)


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exception (when there is
    one), the context fields that are set and whatever the caller passed in `extra`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            timestamp="time",
            json_ensure_ascii=False,
            # Django's request logger passes the request object itself; its method and path are in the
            # message already.
            reserved_attrs=[*RESERVED_ATTRS, "request"],
        )

    def add_fields(self, log_data: dict[str, Any], record: Any, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        for name, value in current().items():
            log_data.setdefault(name, value)
