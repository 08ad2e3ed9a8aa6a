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


class ProviderAccountInvalid(OnlinePaymentError):
    kind = ErrorKind.INVALID


class WebhookRefused(Exception):
    """A webhook that is not the provider's: no account for the address, or a bad signature."""
