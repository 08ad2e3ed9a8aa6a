"""Stripe's documented example answers, copied verbatim from the API reference (each names its page),
for the contract tests of the autopay calls (test_stripe_contract.py)."""

from __future__ import annotations

from typing import Any

# https://docs.stripe.com/api/setup_intents/object — "The SetupIntent object" (as created: no card yet).
SETUP_INTENT: dict[str, Any] = {
    "id": "seti_1Mm8s8LkdIwHu7ix0OXBfTRG",
    "object": "setup_intent",
    "application": None,
    "cancellation_reason": None,
    "client_secret": "seti_1Mm8s8LkdIwHu7ix0OXBfTRG_secret_NXDICkPqPeiBTAFqWmkbff09lRmSVXe",
    "created": 1678942624,
    "customer": None,
    "description": None,
    "flow_directions": None,
    "last_setup_error": None,
    "latest_attempt": None,
    "livemode": False,
    "mandate": None,
    "metadata": {},
    "next_action": None,
    "on_behalf_of": None,
    "payment_method": None,
    "payment_method_options": {
        "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
    },
    "payment_method_types": ["card"],
    "single_use_mandate": None,
    "status": "requires_payment_method",
    "usage": "off_session",
}

# https://docs.stripe.com/api/payment_methods/attach — response of "Attach a PaymentMethod to a Customer".
PAYMENT_METHOD_ATTACHED: dict[str, Any] = {
    "id": "pm_1MqM05LkdIwHu7ixlDxxO6Mc",
    "object": "payment_method",
    "billing_details": {
        "address": {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None},
        "email": None,
        "name": None,
        "phone": None,
    },
    "card": {
        "brand": "visa",
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "country": "US",
        "exp_month": 8,
        "exp_year": 2026,
        "fingerprint": "mToisGZ01V71BCos",
        "funding": "credit",
        "generated_from": None,
        "last4": "4242",
        "networks": {"available": ["visa"], "preferred": None},
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    },
    "created": 1679946402,
    "customer": "cus_NbZ8Ki3f322LNn",
    "livemode": False,
    "metadata": {},
    "type": "card",
}

# https://docs.stripe.com/api/payment_methods/detach — response of "Detach a PaymentMethod from a Customer".
PAYMENT_METHOD_DETACHED: dict[str, Any] = {
    **PAYMENT_METHOD_ATTACHED,
    "id": "pm_1MqLiJLkdIwHu7ixUEgbFdYF",
    "card": {**PAYMENT_METHOD_ATTACHED["card"], "checks": {"address_line1_check": None,
                                                           "address_postal_code_check": None,
                                                           "cvc_check": "unchecked"}},
    "created": 1679945299,
    "customer": None,
}  # fmt: skip

# https://docs.stripe.com/api/payment_intents/confirm — response of "Confirm a PaymentIntent" (a card
# charge that went through: the state PaymentIntent create with confirm=true answers when it succeeds).
PAYMENT_INTENT_SUCCEEDED: dict[str, Any] = {
    "id": "pi_3MtweELkdIwHu7ix0Dt0gF2H",
    "object": "payment_intent",
    "amount": 2000,
    "amount_capturable": 0,
    "amount_details": {"tip": {}},
    "amount_received": 2000,
    "application": None,
    "application_fee_amount": None,
    "automatic_payment_methods": {"enabled": True},
    "canceled_at": None,
    "cancellation_reason": None,
    "capture_method": "automatic",
    "client_secret": "pi_3MtweELkdIwHu7ix0Dt0gF2H_secret_ALlpPMIZse0ac8YzPxkMkFgGC",
    "confirmation_method": "automatic",
    "created": 1680802258,
    "currency": "usd",
    "customer": None,
    "description": None,
    "invoice": None,
    "last_payment_error": None,
    "latest_charge": "ch_3MtweELkdIwHu7ix05lnLAFd",
    "livemode": False,
    "metadata": {},
    "next_action": None,
    "on_behalf_of": None,
    "payment_method": "pm_1MtweELkdIwHu7ixxrsejPtG",
    "payment_method_options": {
        "card": {"installments": None, "mandate_options": None, "network": None, "request_three_d_secure": "automatic"},
        "link": {"persistent_token": None},
    },
    "payment_method_types": ["card", "link"],
    "processing": None,
    "receipt_email": None,
    "review": None,
    "setup_future_usage": None,
    "shipping": None,
    "source": None,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "status": "succeeded",
    "transfer_data": None,
    "transfer_group": None,
}
