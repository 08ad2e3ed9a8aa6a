"""Billing's jobs, defined in its parts and imported here so Celery's autodiscovery (which looks for
`billing.tasks`) registers them. Each keeps the name it had when it was defined in this module."""

from billing.collections.tasks import collection_notices_send_task, collections_run_task
from billing.invoicing.tasks import invoice_pdf_export_task, invoices_generate_task
from billing.payments_online.tasks import autopay_run_task
from billing.peppol.tasks import einvoice_submission_send_task, einvoice_submissions_retry_task
from billing.reconciliation.tasks import reconciliation_import_run_task

__all__ = [
    "autopay_run_task",
    "collection_notices_send_task",
    "collections_run_task",
    "einvoice_submission_send_task",
    "einvoice_submissions_retry_task",
    "invoice_pdf_export_task",
    "invoices_generate_task",
    "reconciliation_import_run_task",
]
