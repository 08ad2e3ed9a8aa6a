"""The demo provider's hosted checkout: the customer pays or declines on a page of the portal, and the
provider sends itself the event Stripe would send, signed with the partner's webhook secret, through
the same webhook code (webhooks.webhook_receive) that Stripe's deliveries go through. Saving a card and
autopay's charges play the same way (providers/demo.py lists the test cards and how their charges end)."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from django.conf import settings

from billing.payments_online.models import AutopayAttempt, OnlineCheckout, PaymentProviderAccount, SavedCard
from billing.payments_online.providers.base import minor_units, signature_header
from billing.payments_online.providers.demo import DEMO_CARDS
from billing.payments_online.services.webhooks import webhook_receive
from subscriptions.secrets import secret_decrypt


def demo_checkout_get(*, session_id: str) -> OnlineCheckout | None:
    """The open demo checkout with this session id (the id is the secret, as on Stripe's page)."""
    if not settings.PAYMENTS_DEMO_PROVIDER or not session_id.startswith("cs_demo_"):
        return None
    return (
        OnlineCheckout.objects.select_related("customer", "partner", "invoice")
        .filter(session_id=session_id, provider=PaymentProviderAccount.Provider.DEMO)
        .first()
    )


def demo_checkout_finish(*, checkout: OnlineCheckout, paid: bool) -> str:
    """Pay or decline the demo checkout: send the signed event and give the address the customer goes
    back to. Paying twice sends one event only (its id is the session's)."""
    account = PaymentProviderAccount.objects.get(partner_id=checkout.partner_id)
    session = {
        "id": checkout.session_id,
        "object": "checkout.session",
        "amount_total": minor_units(checkout.amount, checkout.currency),
        "currency": checkout.currency.lower(),
        "client_reference_id": str(checkout.pk),
        "metadata": {"checkout": str(checkout.pk)},
        "mode": "payment",
        "payment_intent": f"pi_demo_{checkout.session_id.removeprefix('cs_demo_')[:24]}" if paid else None,
        "payment_status": "paid" if paid else "unpaid",
        "status": "complete" if paid else "expired",
    }
    kind = "checkout.session.completed" if paid else "checkout.session.expired"
    event = {
        "id": f"evt_demo_{kind.rsplit('.', 1)[-1]}_{checkout.session_id.removeprefix('cs_demo_')}",
        "object": "event",
        "api_version": "2025-08-27.basil",
        "created": int(time.time()),
        "livemode": False,
        "type": kind,
        "data": {"object": session},
        "request": {"id": f"req_demo_{secrets.token_hex(8)}", "idempotency_key": None},
    }
    _send(account, event)
    return checkout.success_url if paid else checkout.cancel_url


def _event(kind: str, event_id: str, obj: dict[str, Any]) -> dict[str, Any]:
    """An Event as Stripe sends it (docs.stripe.com/api/events/object)."""
    return {
        "id": event_id, "object": "event", "api_version": "2025-08-27.basil", "created": int(time.time()),
        "livemode": False, "type": kind, "data": {"object": obj},
        "request": {"id": f"req_demo_{secrets.token_hex(8)}", "idempotency_key": None},
    }  # fmt: skip


def _send(account: PaymentProviderAccount, event: dict[str, Any]) -> None:
    payload = json.dumps(event)
    # The provider's own clock signs, as Stripe's does; the library checks it within five minutes.
    header = signature_header(
        payload=payload, secret=secret_decrypt(account.webhook_secret_encrypted), timestamp=int(time.time())
    )
    webhook_receive(partner_ref=str(account.partner_id), payload=payload.encode(), signature=header)


def demo_card_setup_get(*, session_id: str) -> SavedCard | None:
    """The customer's card record waiting for this demo setup page (the id is the secret)."""
    if not settings.PAYMENTS_DEMO_PROVIDER or not session_id.startswith("cs_demo_setup_"):
        return None
    return (
        SavedCard.objects.select_related("customer", "partner")
        .filter(setup_session_id=session_id, provider=PaymentProviderAccount.Provider.DEMO)
        .first()
    )


def demo_card_setup_finish(*, card: SavedCard, test_card: str | None) -> None:
    """Save one of the demo's test cards (DEMO_CARDS), or cancel (None): the demo sends the
    checkout.session.completed (mode setup) Stripe would send, whose SetupIntent names the card."""
    account = PaymentProviderAccount.objects.get(partner_id=card.partner_id)
    token = card.setup_session_id.removeprefix("cs_demo_setup_")[:24].replace("_", "")
    saved = test_card in DEMO_CARDS
    session = {
        "id": card.setup_session_id, "object": "checkout.session", "mode": "setup",
        "client_reference_id": str(card.customer_id), "currency": card.customer.currency.lower(),
        "customer": card.provider_customer_id, "metadata": {"portal_customer": str(card.customer_id)},
        "payment_status": "no_payment_required", "status": "complete" if saved else "expired",
        "setup_intent": f"seti_demo_{test_card}_{token}" if saved else None,
    }  # fmt: skip
    kind = "checkout.session.completed" if saved else "checkout.session.expired"
    _send(account, _event(kind, f"evt_demo_setup_{kind.rsplit('.', 1)[-1]}_{token}", session))


def demo_intent_succeeded_send(*, attempt: AutopayAttempt, payment_method_id: str) -> None:
    """The demo's off-session charge went through: send payment_intent.succeeded with the PaymentIntent
    (docs.stripe.com/api/payment_intents/object), as Stripe does, once per intent."""
    account = PaymentProviderAccount.objects.get(partner_id=attempt.partner_id)
    amount = minor_units(attempt.amount, attempt.currency)
    intent = {
        "id": attempt.payment_intent_id, "object": "payment_intent", "amount": amount, "amount_received": amount,
        "currency": attempt.currency.lower(), "customer": None, "payment_method": payment_method_id,
        "metadata": {"autopay_attempt": str(attempt.pk), "invoice": str(attempt.invoice_id)},
        "off_session": True, "status": "succeeded", "livemode": False,
    }  # fmt: skip
    _send(account, _event("payment_intent.succeeded", f"evt_demo_{attempt.payment_intent_id}", intent))
