"""Preconditions of the billing services. Their messages are shown to users as they are."""

from partner_portal.errors import ErrorKind, PortalError


class BillingError(PortalError):
    pass


class InvoiceNotEditable(BillingError):
    """Only drafts change; issued invoices are corrected with credit notes."""

    kind = ErrorKind.CONFLICT


class InvoiceAmountTooLarge(BillingError):
    """A line's amount, or the invoice's total, larger than a money column holds."""


class InvoiceTotalNegative(BillingError):
    """Negative lines are discounts inside an invoice that still comes to zero or more; money owed
    back to a customer is a credit note, never a negative invoice."""


class InvoiceNotOpen(BillingError):
    pass


class InvoiceHasSettlements(BillingError):
    """Payments or credit notes settle the invoice, so it cannot be voided or deleted as it is."""

    kind = ErrorKind.CONFLICT


class AllocationInvalid(BillingError):
    pass


class CreditNoteInvalid(BillingError):
    pass


class InvoiceExportEmpty(BillingError):
    """No invoice matches an export's filters: there would be an empty ZIP."""


class InvoiceNotSendable(BillingError):
    """A draft or void invoice, or a customer with nowhere to send it."""

    kind = ErrorKind.UNPROCESSABLE


class InvoiceLineVatInvalid(BillingError):
    """A line's VAT category does not fit its rate, or lacks the exemption reason it needs."""


class InvoiceVatCategoryMissing(BillingError):
    """A draft has a line at 0 % whose VAT category is not chosen: it cannot be issued."""

    kind = ErrorKind.CONFLICT


class PaymentVoided(BillingError):
    """The payment was voided: nothing more can be done with its money."""

    kind = ErrorKind.CONFLICT


class PaymentCorrectionInvalid(BillingError):
    """A void or refund asked for with missing or impossible details (the reason, the amount, the date)."""


class PaymentHasRefunds(BillingError):
    """Money of the payment went back to the customer: it cannot be voided as if it never came."""

    kind = ErrorKind.CONFLICT


class InvoiceDatesInvalid(BillingError):
    """A draft's issue or due date out of bounds: due before issue, or an issue date more than a year
    before or after today."""


class InvoiceTaxCurrencyInvalid(BillingError):
    """A VAT exchange rate on an invoice in the partner's own accounting currency, or not above zero."""


class InvoiceLineSubscriptionInvalid(BillingError):
    """A line linked to a subscription of another customer than the invoice's."""
