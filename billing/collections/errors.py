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


class NoticeTemplateInvalid(BillingError):
    """A notice template that cannot be saved (unknown variable, a tag, an empty text); `errors` per field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(message for messages in errors.values() for message in messages))


class NoticePreviewUnavailable(BillingError):
    """A preview or test send for a customer with no issued invoice to show, or a user with no email."""
