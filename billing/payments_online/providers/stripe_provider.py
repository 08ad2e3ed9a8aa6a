"""Stripe, through the official library: a Checkout Session per payment
(docs.stripe.com/api/checkout/sessions/create). Calls go to STRIPE_API_URL with each partner's own
secret key, over a requests session that ignores proxy and CA variables of the environment and trusts
STRIPE_CA_BUNDLE when set (always verified)."""

from __future__ import annotations

import logging
from typing import Any

import requests
import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from billing.payments_online.errors import ProviderUnavailable
from billing.payments_online.providers.base import CheckoutRequest, CheckoutStarted, minor_units

logger = logging.getLogger(__name__)
_DEFAULT_CA_BUNDLE = stripe.ca_bundle_path


class StripeProvider:
    def __init__(self, *, secret_key: str) -> None:
        session = requests.Session()
        session.trust_env = False
        # The library passes its CA bundle on each request (stripe.ca_bundle_path, process-wide).
        stripe.ca_bundle_path = settings.STRIPE_CA_BUNDLE or _DEFAULT_CA_BUNDLE
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": settings.STRIPE_API_URL},
            http_client=stripe.RequestsClient(session=session, timeout=settings.STRIPE_TIMEOUT_SECONDS),
            max_network_retries=2,
        )

    def checkout_create(self, request: CheckoutRequest) -> CheckoutStarted:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": minor_units(request.amount, request.currency),
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": str(request.reference),
            "metadata": {"checkout": str(request.reference), **request.metadata},
            "payment_intent_data": {"metadata": {"checkout": str(request.reference), **request.metadata}},
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        try:
            session = self._client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]  # built as a plain dict; the library's TypedDict is nested
                options={"idempotency_key": f"portal-checkout-{request.reference}"},
            )
        except stripe.StripeError as exc:
            logger.warning("Stripe refused checkout %s: %s", request.reference, exc)
            raise ProviderUnavailable(
                _("The card payment could not be started. Nothing was charged; please try again later.")
            ) from exc
        return CheckoutStarted(session_id=session.id, url=session.url or "")
