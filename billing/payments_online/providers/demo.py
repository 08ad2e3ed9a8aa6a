"""The demo provider: plays Stripe's hosted checkout inside the portal (a page with Pay and Decline)
so the whole loop runs without keys. Available only where PAYMENTS_DEMO_PROVIDER is on; no money moves.

Saving a card plays Stripe's setup page: the customer picks one of Stripe's test cards, and the ids the
demo makes name it (seti_demo_<card>_…, pm_demo_<card>_…), so a later charge knows how it ends:

- 4242 (Visa): charges succeed;
- 0341 (Visa): saved, but every charge is declined (card_declined), as Stripe's 4000 0000 0000 0341;
- 3184 (Visa): every charge asks for authentication the customer must give in person
  (authentication_required), as Stripe's 4000 0027 6000 3184 off-session.
"""

from __future__ import annotations

import hashlib
import secrets

from django.urls import reverse

from billing.payments_online.errors import CardChargeFailed
from billing.payments_online.providers.base import (
    CardDetails,
    CardSetupRequest,
    CardSetupStarted,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutStarted,
)

# The test cards the demo setup page offers: last four digits → (brand, how charges end).
DEMO_CARDS: dict[str, tuple[str, str]] = {
    "4242": ("visa", "succeeds"),
    "0341": ("visa", "card_declined"),
    "3184": ("visa", "authentication_required"),
}
# What the demo setup page shows of each (Stripe's test card numbers, docs.stripe.com/testing).
DEMO_CARD_CHOICES: list[tuple[str, str, str]] = [
    ("4242", "4242 4242 4242 4242", "succeeds"),
    ("0341", "4000 0000 0000 0341", "card_declined"),
    ("3184", "4000 0027 6000 3184", "authentication_required"),
]
# Stripe's messages for the two refusals (docs.stripe.com/declines/codes, docs.stripe.com/error-codes).
_DECLINE_MESSAGES = {
    "card_declined": "Your card was declined.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}


def demo_card_of(object_id: str) -> str:
    """The test card (last four digits) a demo setup intent or payment method id names, or ""."""
    parts = object_id.split("_")
    return parts[2] if len(parts) > 3 and parts[1] == "demo" and parts[2] in DEMO_CARDS else ""


class DemoProvider:
    def checkout_create(self, request: CheckoutRequest) -> CheckoutStarted:
        session_id = f"cs_demo_{secrets.token_urlsafe(24)}"
        return CheckoutStarted(
            session_id=session_id, url=reverse("payments_demo_checkout", kwargs={"session_id": session_id})
        )

    def card_setup_create(self, request: CardSetupRequest) -> CardSetupStarted:
        session_id = f"cs_demo_setup_{secrets.token_urlsafe(24)}"
        return CardSetupStarted(
            session_id=session_id,
            url=reverse("payments_demo_card_setup", kwargs={"session_id": session_id}),
            provider_customer_id=request.provider_customer_id or f"cus_demo_{request.reference}",
        )

    def card_setup_read(self, setup_intent_id: str) -> CardDetails:
        card = demo_card_of(setup_intent_id) or "4242"
        token = setup_intent_id.rsplit("_", 1)[-1]
        return CardDetails(
            payment_method_id=f"pm_demo_{card}_{token}", provider_customer_id="", brand=DEMO_CARDS[card][0],
            last4=card, exp_month=12, exp_year=2034,
        )  # fmt: skip

    def card_charge(self, request: ChargeRequest) -> ChargeResult:
        # The same key gives the same intent, as Stripe's idempotency does.
        intent_id = f"pi_demo_{hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]}"
        outcome = DEMO_CARDS.get(demo_card_of(request.payment_method_id), ("", "succeeds"))[1]
        if outcome != "succeeds":
            raise CardChargeFailed(_DECLINE_MESSAGES[outcome], failure_code=outcome, payment_intent_id=intent_id)
        return ChargeResult(payment_intent_id=intent_id, status="succeeded")

    def card_detach(self, payment_method_id: str) -> None:
        return None
