"""The demo provider: plays Stripe's hosted checkout inside the portal (a page with Pay and Decline)
so the whole loop runs without keys. Available only where PAYMENTS_DEMO_PROVIDER is on; no money moves."""

from __future__ import annotations

import secrets

from django.urls import reverse

from billing.payments_online.providers.base import CheckoutRequest, CheckoutStarted


class DemoProvider:
    def checkout_create(self, request: CheckoutRequest) -> CheckoutStarted:
        session_id = f"cs_demo_{secrets.token_urlsafe(24)}"
        return CheckoutStarted(
            session_id=session_id, url=reverse("payments_demo_checkout", kwargs={"session_id": session_id})
        )
