"""The payment provider boundary: what the portal asks of a provider (a hosted checkout), and each
provider behind it. Webhooks from every provider arrive in Stripe's shape and are checked with the
Stripe library (billing.payments_online.services.webhooks)."""

from __future__ import annotations

from billing.payments_online.providers.base import CheckoutRequest, CheckoutStarted, PaymentProvider, minor_units
from billing.payments_online.providers.select import provider_for

__all__ = ["CheckoutRequest", "CheckoutStarted", "PaymentProvider", "minor_units", "provider_for"]
