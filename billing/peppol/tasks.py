"""Peppol sending's jobs. Thin: ids in, one service call; the services claim, so a double run is harmless."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def einvoice_submission_send_task(*, submission_id: int) -> str:
    """One attempt to send a document to the access point; a transient failure waits for the sweep."""
    from billing.peppol.services import submission_send

    return str(submission_send(submission_id=submission_id).status)


@shared_task(acks_late=True)
def einvoice_submissions_retry_task() -> int:
    """The sweep: documents waiting to retry whose time has come, queued ones whose task was lost, claims
    of workers that died (sent again with the same guid), and, where configured, Storecove's queued
    webhooks. Returns how many documents were tried."""
    from django.conf import settings

    from billing.peppol.services import submissions_retry_due, webhooks_pull_all

    tried = submissions_retry_due()
    if settings.STORECOVE_WEBHOOKS_PULL:
        webhooks_pull_all()
    return tried
