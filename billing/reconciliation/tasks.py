"""Reconciliation jobs. Thin: ids in, call one service. Registered under their former names (billing.tasks.*) so queued messages keep working."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="billing.tasks.reconciliation_import_run_task", acks_late=True)
def reconciliation_import_run_task(*, import_id: int) -> str:
    """Import an uploaded Partner Center reconciliation file; safe to run twice or on two workers."""
    from billing.reconciliation.services import reconciliation_import_run

    return reconciliation_import_run(import_id=import_id).status
