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


class ReconciliationInvalid(BillingError):
    """A reconciliation import, mapping or usage billing that cannot be done as asked."""


class PayableInvalid(BillingError):
    """A Microsoft payable entered with a bad period, currency or amount."""


class CollectionPolicyInvalid(BillingError):
    """A collections policy that cannot be saved; `errors` holds a message list per field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(message for messages in errors.values() for message in messages))


class CollectionHoldInvalid(BillingError):
    """A promise to pay with a date in the past or no reason."""
