"""The demo provider's hosted checkout: the customer pays or declines on a page of the portal, and the
provider sends itself the event Stripe would send, signed with the partner's webhook secret, through
the same webhook code (webhooks.webhook_receive) that Stripe's deliveries go through."""

from __future__ import annotations

import json
import secrets
import time

from django.conf import settings

from billing.payments_online.models import OnlineCheckout, PaymentProviderAccount
from billing.payments_online.providers.base import minor_units, signature_header
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
    payload = json.dumps(event)
    # The provider's own clock signs, as Stripe's does; the library checks it within five minutes.
    header = signature_header(
        payload=payload, secret=secret_decrypt(account.webhook_secret_encrypted), timestamp=int(time.time())
    )
    webhook_receive(partner_ref=str(checkout.partner_id), payload=payload.encode(), signature=header)
    return checkout.success_url if paid else checkout.cancel_url
