"""The Celery app. Settings come from Django's settings under the CELERY_ prefix."""

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, task_failure, worker_init

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
