"""The Celery app. Settings come from Django's settings under the CELERY_ prefix."""

import os
from typing import Any

from celery import Celery
from celery.signals import (
    beat_init,
    before_task_publish,
    setup_logging,
    task_failure,
    task_postrun,
    task_prerun,
    worker_init,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("partner_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def refuse_half_configured_worker(**kwargs: Any) -> None:
    """The worker calls Microsoft and sends mail: with DEBUG off it does not start half-configured."""
    from partner_portal.checks import refuse_half_configured

    refuse_half_configured("Celery worker")


@beat_init.connect
def refuse_half_configured_beat(**kwargs: Any) -> None:
    from partner_portal.checks import refuse_half_configured

    refuse_half_configured("Celery beat")


@task_failure.connect
def count_task_failure(sender: Any = None, **kwargs: Any) -> None:
    """Failed tasks by name, for /metrics (config.metrics)."""
    from config.metrics import record_task_failure

    record_task_failure(getattr(sender, "name", "unknown"))


@setup_logging.connect
def use_the_portal_logging(**kwargs: Any) -> None:
    """Worker and beat log through the settings' LOGGING (LOG_FORMAT, LOG_LEVEL) instead of Celery's own
    format, so their lines look like the web process's and carry the task's context."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    logging.captureWarnings(True)  # Python warnings as log lines, as in the web process


@before_task_publish.connect
def carry_log_context(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """A task queued during a request (or another task) carries its request id and partner id."""
    from partner_portal import logcontext

    if headers is None:
        return
    context = logcontext.current()
    for field, header in logcontext.TASK_HEADERS.items():
        if context.get(field) is not None:
            headers.setdefault(header, context[field])


# The context a task ran under, put back when it ends (an eager task runs inside its caller's request).
_task_log_tokens: dict[str, list[Any]] = {}


@task_prerun.connect
def bind_task_log_context(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    from partner_portal import logcontext

    request = getattr(task, "request", None)
    nested = getattr(request, "headers", None) or {}  # where some Celery versions keep custom headers
    values: dict[str, Any] = {"task_id": task_id, "task_name": getattr(task, "name", None)}
    for field, header in logcontext.TASK_HEADERS.items():
        value = getattr(request, header, None) or nested.get(header)
        if value is not None:
            values[field] = value
    if task_id:
        _task_log_tokens[task_id] = logcontext.bind(**values)


@task_postrun.connect
def unbind_task_log_context(task_id: str | None = None, **kwargs: Any) -> None:
    from partner_portal import logcontext

    tokens = _task_log_tokens.pop(task_id or "", None)
    if tokens:
        logcontext.unbind(tokens)
