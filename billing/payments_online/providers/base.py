"""What the portal asks of a payment provider."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from partner_portal.money import exponent


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted checkout for `amount` in `currency`; `reference` is the portal's checkout id, sent
    back in the webhook's metadata and used as the idempotency key."""

    reference: int
    amount: Decimal
    currency: str
    description: str
    success_url: str
    cancel_url: str
    customer_email: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutStarted:
    session_id: str
    url: str


class PaymentProvider(Protocol):
    def checkout_create(self, request: CheckoutRequest) -> CheckoutStarted: ...


def minor_units(amount: Decimal, currency: str) -> int:
    """An amount in the currency's smallest unit, as Stripe counts it (cents; yen as they are)."""
    return int(amount.scaleb(exponent(currency)))


def from_minor_units(value: int, currency: str) -> Decimal:
    return Decimal(value).scaleb(-exponent(currency)).quantize(Decimal(1).scaleb(-exponent(currency)))


def signature_header(*, payload: str, secret: str, timestamp: int) -> str:
    """A `Stripe-Signature` header as Stripe computes it: `t=<unix time>,v1=<hex HMAC-SHA256 of
    "<t>.<payload>" with the endpoint's signing secret>` (docs.stripe.com/webhooks/signature)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"
