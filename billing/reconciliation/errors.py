"""Preconditions of the reconciliation services."""

from billing.invoicing.errors import BillingError


class ReconciliationInvalid(BillingError):
    """A reconciliation import, mapping or usage billing that cannot be done as asked."""


class PayableInvalid(BillingError):
    """A Microsoft payable entered with a bad period, currency or amount."""
