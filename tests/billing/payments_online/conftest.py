from __future__ import annotations

import pytest

from billing.payments_online.services import payment_provider_account_set

SECRET_KEY = "sk_test_51portalsecretkey0000"
WEBHOOK_SECRET = "whsec_portaltestsigningsecret"


@pytest.fixture
def stripe_partner(tenant, stripe_fake):
    """The tenant's partner connected to the stand-in Stripe with its own keys."""
    payment_provider_account_set(
        partner=tenant.partner, actor=tenant.admin, provider="stripe", secret_key=SECRET_KEY,
        webhook_secret=WEBHOOK_SECRET,
    )  # fmt: skip
    return tenant.partner
