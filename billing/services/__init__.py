"""Every write of billing. Import from here: `from billing.services import invoice_issue`."""

from billing.services.collections import (
    StepInput,
    collection_notice_send,
    collection_notices_send,
    collection_policy_get,
    collection_policy_update,
    collections_run,
    collections_run_all,
    customer_collections_hold,
)
from billing.services.credit_notes import credit_note_issue
from billing.services.exports import invoice_pdf_export_request, invoice_pdf_export_run
from billing.services.generation import GenerationResult, invoices_generate, period_bounds, previous_period
from billing.services.invoicing import (
    LineInput,
    invoice_draft_create,
    invoice_draft_delete,
    invoice_draft_update,
    invoice_issue,
    invoice_void,
    line_amounts,
)
from billing.services.numbering import number_next
from billing.services.payments import AllocationInput, payment_record
from billing.services.reconciliation import (
    ImportSubmission,
    microsoft_payable_set,
    payable_default_due_date,
    reconciliation_import_create,
    reconciliation_import_run,
    reconciliation_import_submit,
    reconciliation_line_map,
    reconciliation_usage_bill,
)

__all__ = [
    "AllocationInput",
    "GenerationResult",
    "ImportSubmission",
    "LineInput",
    "StepInput",
    "collection_notice_send",
    "collection_notices_send",
    "collection_policy_get",
    "collection_policy_update",
    "collections_run",
    "collections_run_all",
    "credit_note_issue",
    "customer_collections_hold",
    "invoice_draft_create",
    "invoice_draft_delete",
    "invoice_draft_update",
    "invoice_issue",
    "invoice_pdf_export_request",
    "invoice_pdf_export_run",
    "invoice_void",
    "invoices_generate",
    "line_amounts",
    "microsoft_payable_set",
    "number_next",
    "payable_default_due_date",
    "payment_record",
    "period_bounds",
    "previous_period",
    "reconciliation_import_create",
    "reconciliation_import_run",
    "reconciliation_import_submit",
    "reconciliation_line_map",
    "reconciliation_usage_bill",
]
