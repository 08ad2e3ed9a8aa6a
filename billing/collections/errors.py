"""Preconditions of the collections services."""

from billing.invoicing.errors import BillingError


class CollectionPolicyInvalid(BillingError):
    """A collections policy that cannot be saved; `errors` holds a message list per field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(message for messages in errors.values() for message in messages))


class CollectionHoldInvalid(BillingError):
    """A promise to pay with a date in the past or no reason."""


class NoticeNotUncertain(BillingError):
    """Marking sent or sending again a notice that is not `uncertain` (someone decided already)."""
