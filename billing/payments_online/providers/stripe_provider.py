"""Stripe, through the official library: a Checkout Session per payment
(docs.stripe.com/api/checkout/sessions/create); for autopay a Customer (docs.stripe.com/api/customers/create)
and a Checkout Session in setup mode that saves its card, the SetupIntent read back with its card
(docs.stripe.com/api/setup_intents/retrieve), off-session PaymentIntents
(docs.stripe.com/api/payment_intents/create, off_session=true, confirm=true) and detaching the card
(docs.stripe.com/api/payment_methods/detach). Calls go to STRIPE_API_URL with each partner's own
secret key, over a requests session that ignores proxy and CA variables of the environment and trusts
STRIPE_CA_BUNDLE when set (always verified)."""

from __future__ import annotations

import logging
from typing import Any

import requests
import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from billing.payments_online.errors import CardChargeFailed, ProviderUnavailable
from billing.payments_online.providers.base import (
    CardDetails,
    CardSetupRequest,
    CardSetupStarted,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutStarted,
    minor_units,
)

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

    def card_setup_create(self, request: CardSetupRequest) -> CardSetupStarted:
        """The customer at Stripe (created once, kept for the next card), then a Checkout Session in
        setup mode for it: Stripe's page saves the card on that customer for off-session use."""
        try:
            customer_id = request.provider_customer_id
            if not customer_id:
                params: dict[str, Any] = {
                    "name": request.customer_name,
                    "metadata": {"portal_customer": request.reference},
                }
                if request.customer_email:
                    params["email"] = request.customer_email
                customer = self._client.v1.customers.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": f"portal-customer-{request.reference}"},
                )
                customer_id = customer.id
            session = self._client.v1.checkout.sessions.create(
                params={
                    "mode": "setup",
                    "currency": request.currency.lower(),  # required in setup mode without payment_method_types
                    "customer": customer_id,
                    "success_url": request.success_url,
                    "cancel_url": request.cancel_url,
                    "client_reference_id": request.reference,
                    "metadata": {"portal_customer": request.reference},
                    "setup_intent_data": {"metadata": {"portal_customer": request.reference}},
                }
            )
        except stripe.StripeError as exc:
            logger.warning("Stripe refused a card setup for customer %s: %s", request.reference, exc)
            raise ProviderUnavailable(_("The card could not be saved just now; please try again later.")) from exc
        return CardSetupStarted(session_id=session.id, url=session.url or "", provider_customer_id=customer_id)

    def card_setup_read(self, setup_intent_id: str) -> CardDetails:
        """The card a completed setup saved: the SetupIntent with its PaymentMethod expanded."""
        try:
            intent = self._client.v1.setup_intents.retrieve(setup_intent_id, params={"expand": ["payment_method"]})
        except stripe.StripeError as exc:
            logger.warning("Stripe did not answer setup intent %s: %s", setup_intent_id, exc)
            raise ProviderUnavailable(_("The card could not be read from the provider.")) from exc
        method = intent.payment_method
        if method is None or isinstance(method, str) or method.card is None:
            raise ProviderUnavailable(_("The provider saved no card."))
        customer = intent.customer if isinstance(intent.customer, str) else getattr(intent.customer, "id", "")
        return CardDetails(
            payment_method_id=method.id, provider_customer_id=customer or "", brand=method.card.brand,
            last4=method.card.last4, exp_month=method.card.exp_month, exp_year=method.card.exp_year,
        )  # fmt: skip

    def card_charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge the saved card without the customer present. A refusal (402 with a card_error:
        card_declined, authentication_required, ...; docs.stripe.com/api/errors) is CardChargeFailed
        with Stripe's code and message; anything else that fails is ProviderUnavailable (try again)."""
        try:
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": minor_units(request.amount, request.currency),
                    "currency": request.currency.lower(),
                    "customer": request.provider_customer_id,
                    "payment_method": request.payment_method_id,
                    "off_session": True,
                    "confirm": True,
                    "description": request.description,
                    "metadata": request.metadata,
                },
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.CardError as exc:
            error = exc.error
            intent_obj = getattr(error, "payment_intent", None) if error is not None else None
            code = (error.code if error is not None else None) or exc.code or "card_error"
            return_id = getattr(intent_obj, "id", "") or ""
            decline_code = (getattr(error, "decline_code", None) if error is not None else None) or ""
            raise CardChargeFailed(
                exc.user_message or str(exc), failure_code=code, payment_intent_id=return_id, decline_code=decline_code
            ) from exc
        except stripe.StripeError as exc:
            logger.warning("Stripe did not take charge %s: %s", request.idempotency_key, exc)
            raise ProviderUnavailable(_("The card could not be charged just now.")) from exc
        return ChargeResult(payment_intent_id=intent.id, status=intent.status)

    def card_detach(self, payment_method_id: str) -> None:
        try:
            self._client.v1.payment_methods.detach(payment_method_id)
        except stripe.InvalidRequestError as exc:
            # Already detached or gone at Stripe (removed in the Dashboard): nothing left to remove.
            logger.info("Stripe: payment method %s not detached: %s", payment_method_id, exc)
        except stripe.StripeError as exc:
            raise ProviderUnavailable(_("The card could not be removed just now; please try again later.")) from exc
