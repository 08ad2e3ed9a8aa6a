"""Preconditions of the billing services. Their messages are shown to users as they are."""

from partner_portal.errors import PortalError


class BillingError(PortalError):
    pass


class InvoiceNotEditable(BillingError):
    """Only drafts change; issued invoices are corrected with credit notes."""


class InvoiceNotOpen(BillingError):
    pass


class InvoiceHasSettlements(BillingError):
    pass


class AllocationInvalid(BillingError):
    pass


class CreditNoteInvalid(BillingError):
    pass
