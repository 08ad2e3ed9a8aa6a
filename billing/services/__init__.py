"""Every write of billing. Import from here: `from billing.services import invoice_issue`."""

from billing.services.credit_notes import credit_note_issue
from billing.services.exports import invoice_pdf_export_request, invoice_pdf_export_run
from billing.services.generation import GenerationResult, invoices_generate, period_bounds, previous_period
from billing.services.invoicing import (
    LineInput,
    invoice_draft_create,
    invoice_draft_update,
    invoice_issue,
    invoice_void,
    line_amounts,
)
from billing.services.numbering import number_next
from billing.services.payments import AllocationInput, payment_record

__all__ = [
    "AllocationInput",
    "GenerationResult",
    "LineInput",
    "credit_note_issue",
    "invoice_draft_create",
    "invoice_draft_update",
    "invoice_issue",
    "invoice_pdf_export_request",
    "invoice_pdf_export_run",
    "invoice_void",
    "invoices_generate",
    "line_amounts",
    "number_next",
    "payment_record",
    "period_bounds",
    "previous_period",
]
