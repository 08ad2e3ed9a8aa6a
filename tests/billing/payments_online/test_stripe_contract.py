"""The real `stripe` client of the autopay calls, fed Stripe's documented example answers
(stripe_examples.py, each naming its page) by the stand-in: what the provider reads from them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.payments_online.errors import CardChargeFailed, ProviderUnavailable
from billing.payments_online.providers.base import CardDetails, ChargeRequest, ChargeResult
from billing.payments_online.providers.stripe_provider import StripeProvider
from tests.billing.payments_online.conftest import SECRET_KEY
from tests.billing.payments_online.stripe_examples import (
    PAYMENT_INTENT_SUCCEEDED,
    PAYMENT_METHOD_ATTACHED,
    PAYMENT_METHOD_DETACHED,
    SETUP_INTENT,
)

CHARGE = ChargeRequest(
    amount=Decimal("20.00"), currency="USD", provider_customer_id="cus_NbZ8Ki3f322LNn",
    payment_method_id="pm_1MqM05LkdIwHu7ixlDxxO6Mc", description="Invoice 2026-0001",
    idempotency_key="portal-autopay-7-1", metadata={"autopay_attempt": "3"},
)  # fmt: skip


def test_a_completed_setup_intent_gives_the_card_it_saved(stripe_fake) -> None:
    # The documented SetupIntent once it succeeded on a customer (docs.stripe.com/api/setup_intents/object:
    # status "succeeded", `customer` and `payment_method` set), its PaymentMethod expanded.
    succeeded = {**SETUP_INTENT, "status": "succeeded", "customer": "cus_NbZ8Ki3f322LNn",
                 "payment_method": PAYMENT_METHOD_ATTACHED}  # fmt: skip
    stripe_fake.scripted[("GET", f"/v1/setup_intents/{SETUP_INTENT['id']}")] = (200, succeeded)

    card = StripeProvider(secret_key=SECRET_KEY).card_setup_read(SETUP_INTENT["id"])

    assert card == CardDetails(
        payment_method_id="pm_1MqM05LkdIwHu7ixlDxxO6Mc", provider_customer_id="cus_NbZ8Ki3f322LNn",
        brand="visa", last4="4242", exp_month=8, exp_year=2026,
    )  # fmt: skip
    _method, _path, params, _headers = stripe_fake.requests[-1]
    assert params["expand"] == ["payment_method"]


def test_a_setup_intent_without_a_card_is_not_taken_for_one(stripe_fake) -> None:
    stripe_fake.scripted[("GET", f"/v1/setup_intents/{SETUP_INTENT['id']}")] = (200, SETUP_INTENT)
    with pytest.raises(ProviderUnavailable):
        StripeProvider(secret_key=SECRET_KEY).card_setup_read(SETUP_INTENT["id"])


def test_an_off_session_charge_that_went_through(stripe_fake) -> None:
    stripe_fake.scripted[("POST", "/v1/payment_intents")] = (200, PAYMENT_INTENT_SUCCEEDED)

    result = StripeProvider(secret_key=SECRET_KEY).card_charge(CHARGE)

    assert result == ChargeResult(payment_intent_id="pi_3MtweELkdIwHu7ix0Dt0gF2H", status="succeeded")
    _method, path, params, headers = stripe_fake.requests[-1]
    assert path == "/v1/payment_intents"
    assert (params["amount"], params["currency"], params["off_session"], params["confirm"]) == (
        "2000",
        "usd",
        "true",
        "true",
    )
    assert headers["idempotency-key"] == "portal-autopay-7-1"


@pytest.mark.parametrize(
    ("code", "decline_code", "message"),
    [
        ("card_declined", "generic_decline", "Your card was declined."),
        ("authentication_required", "authentication_required",
         "Your card was declined. This transaction requires authentication."),
    ],
)  # fmt: skip
def test_a_refused_off_session_charge(stripe_fake, code, decline_code, message) -> None:
    # docs.stripe.com/api/errors: 402 "Request Failed", an error of type card_error with `code`,
    # `decline_code`, `message` and the PaymentIntent left in requires_payment_method
    # (docs.stripe.com/payments/save-and-reuse, "Charge the saved payment method later").
    intent = {**PAYMENT_INTENT_SUCCEEDED, "status": "requires_payment_method", "amount_received": 0,
              "latest_charge": None}  # fmt: skip
    error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message,
             "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
             "payment_intent": intent, "payment_method": PAYMENT_METHOD_ATTACHED}  # fmt: skip
    stripe_fake.scripted[("POST", "/v1/payment_intents")] = (402, {"error": error})

    with pytest.raises(CardChargeFailed) as refused:
        StripeProvider(secret_key=SECRET_KEY).card_charge(CHARGE)

    assert (refused.value.failure_code, str(refused.value)) == (code, message)
    assert refused.value.payment_intent_id == "pi_3MtweELkdIwHu7ix0Dt0gF2H"


def test_detaching_a_card(stripe_fake) -> None:
    path = f"/v1/payment_methods/{PAYMENT_METHOD_DETACHED['id']}/detach"
    stripe_fake.scripted[("POST", path)] = (200, PAYMENT_METHOD_DETACHED)
    StripeProvider(secret_key=SECRET_KEY).card_detach(PAYMENT_METHOD_DETACHED["id"])
    assert stripe_fake.requests[-1][:2] == ("POST", path)


def test_detaching_a_card_stripe_no_longer_has_is_not_an_error(stripe_fake) -> None:
    path = f"/v1/payment_methods/{PAYMENT_METHOD_DETACHED['id']}/detach"
    # docs.stripe.com/api/errors: 400 invalid_request_error (removed in the Dashboard already).
    stripe_fake.scripted[("POST", path)] = (400, {"error": {"type": "invalid_request_error", "message":
        "The payment method you provided is not attached to a customer so detachment is impossible."}})  # fmt: skip
    StripeProvider(secret_key=SECRET_KEY).card_detach(PAYMENT_METHOD_DETACHED["id"])


def test_stripe_out_of_reach_is_not_a_refusal(stripe_fake) -> None:
    stripe_fake.scripted[("POST", "/v1/payment_intents")] = (500, {"error": {"type": "api_error",
                                                                             "message": "Something went wrong."}})  # fmt: skip
    with pytest.raises(ProviderUnavailable):
        StripeProvider(secret_key=SECRET_KEY).card_charge(CHARGE)
