"""The provider of a partner's account."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from billing.payments_online.errors import OnlinePaymentsNotSetUp
from billing.payments_online.models import PaymentProviderAccount
from billing.payments_online.providers.base import PaymentProvider
from billing.payments_online.providers.demo import DemoProvider
from billing.payments_online.providers.stripe_provider import StripeProvider
from subscriptions.secrets import secret_decrypt


def provider_for(account: PaymentProviderAccount) -> PaymentProvider:
    if account.provider == PaymentProviderAccount.Provider.DEMO:
        if not settings.PAYMENTS_DEMO_PROVIDER:
            raise OnlinePaymentsNotSetUp(_("Card payments are not available here."))
        return DemoProvider()
    return StripeProvider(secret_key=secret_decrypt(account.secret_key_encrypted))
