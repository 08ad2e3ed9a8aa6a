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


@dataclass(frozen=True)
class CardSetupRequest:
    """A hosted page where the customer saves a card for later charges (no money moves).
    `provider_customer_id` is the provider's customer from an earlier card, if any."""

    reference: str
    currency: str
    success_url: str
    cancel_url: str
    customer_name: str
    customer_email: str = ""
    provider_customer_id: str = ""


@dataclass(frozen=True)
class CardSetupStarted:
    session_id: str
    url: str
    provider_customer_id: str


@dataclass(frozen=True)
class CardDetails:
    """What the portal keeps of a saved card: the provider's ids and what identifies it to a person."""

    payment_method_id: str
    provider_customer_id: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True)
class ChargeRequest:
    """An off-session charge of a saved card; `idempotency_key` makes a repeated request the same charge."""

    amount: Decimal
    currency: str
    provider_customer_id: str
    payment_method_id: str
    description: str
    idempotency_key: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeResult:
    """The provider's answer: its reference, and whether the money was taken ("succeeded") or is still
    on its way ("processing"). A refusal is CardChargeFailed (errors.py) instead."""

    payment_intent_id: str
    status: str


class PaymentProvider(Protocol):
    def checkout_create(self, request: CheckoutRequest) -> CheckoutStarted: ...

    def card_setup_create(self, request: CardSetupRequest) -> CardSetupStarted: ...

    def card_setup_read(self, setup_intent_id: str) -> CardDetails: ...

    def card_charge(self, request: ChargeRequest) -> ChargeResult: ...

    def card_detach(self, payment_method_id: str) -> None: ...


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
