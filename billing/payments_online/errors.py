"""Refusals of online payments, each with its kind (partner_portal.errors)."""

from __future__ import annotations

from partner_portal.errors import ErrorKind, PortalError


class OnlinePaymentError(PortalError):
    kind = ErrorKind.UNPROCESSABLE


class OnlinePaymentsNotSetUp(OnlinePaymentError):
    """The partner has connected no payment provider."""


class CheckoutRefused(OnlinePaymentError):
    """Nothing to pay: the invoice is not open, or there is no overdue balance."""

    kind = ErrorKind.CONFLICT


class ProviderUnavailable(OnlinePaymentError):
    """The provider refused the request or could not be reached; nothing was charged."""


class CardChargeFailed(OnlinePaymentError):
    """The provider refused an off-session charge (a declined card, authentication the customer must
    give in person): nothing was taken. `failure_code` is the provider's error code (card_declined,
    authentication_required, ...), `decline_code` the issuer's reason when it gave one
    (insufficient_funds, stolen_card, ...), the message its words."""

    def __init__(self, message: str, *, failure_code: str, payment_intent_id: str = "", decline_code: str = "") -> None:
        super().__init__(message)
        self.failure_code, self.payment_intent_id = failure_code, payment_intent_id
        self.decline_code = decline_code


class CardNotSaved(OnlinePaymentError):
    """Autopay needs a saved card."""

    kind = ErrorKind.CONFLICT


class ProviderAccountInvalid(OnlinePaymentError):
    kind = ErrorKind.INVALID


class WebhookRefused(Exception):
    """A webhook that is not the provider's: no account for the address, or a bad signature."""
