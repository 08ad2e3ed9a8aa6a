"""Every write of invoicing. Import from here: `from billing.invoicing.services import invoice_issue`."""

from billing.invoicing.services.credit_notes import CreditLineInput, LineCredited, credit_note_issue, lines_credited
from billing.invoicing.services.exports import (
    invoice_pdf_export_part_run,
    invoice_pdf_export_request,
    invoice_pdf_export_run,
)
from billing.invoicing.services.generation import (
    GenerationResult,
    invoices_generate,
    invoices_generate_all,
    period_bounds,
    previous_period,
)
from billing.invoicing.services.invoicing import (
    UNCHANGED,
    LineInput,
    invoice_dates_check,
    invoice_draft_create,
    invoice_draft_delete,
    invoice_draft_releaser_register,
    invoice_draft_update,
    invoice_issue,
    invoice_tax_currency_check,
    invoice_void,
    line_amounts,
)
from billing.invoicing.services.listeners import (
    customer_balances_changed,
    customer_balances_listener_register,
    document_issued_listener_register,
)
from billing.invoicing.services.numbering import number_next
from billing.invoicing.services.payments import (
    AllocationInput,
    RefundSource,
    invoices_reopened_listener_register,
    payment_date_check,
    payment_record,
    payment_void,
    refund_record,
)
from billing.invoicing.services.sending import billing_recipients, invoice_send, invoice_send_request

__all__ = [
    "UNCHANGED",
    "AllocationInput",
    "CreditLineInput",
    "GenerationResult",
    "LineCredited",
    "LineInput",
    "RefundSource",
    "billing_recipients",
    "credit_note_issue",
    "customer_balances_changed",
    "customer_balances_listener_register",
    "document_issued_listener_register",
    "invoice_dates_check",
    "invoice_draft_create",
    "invoice_draft_delete",
    "invoice_draft_releaser_register",
    "invoice_draft_update",
    "invoice_issue",
    "invoice_pdf_export_part_run",
    "invoice_pdf_export_request",
    "invoice_pdf_export_run",
    "invoice_send",
    "invoice_send_request",
    "invoice_tax_currency_check",
    "invoice_void",
    "invoices_generate",
    "invoices_generate_all",
    "invoices_reopened_listener_register",
    "line_amounts",
    "lines_credited",
    "number_next",
    "payment_date_check",
    "payment_record",
    "payment_void",
    "period_bounds",
    "previous_period",
    "refund_record",
]
