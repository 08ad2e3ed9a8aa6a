"""Billing's part of `manage.py seed_demo`: finance's invoices, payments, collections and payables, then
Peppol sending of the Belgian partner (a demo account that never calls Storecove), then the demo payment
provider for the demo partner, so a customer can pay by card with no keys."""

from __future__ import annotations

from django.conf import settings

from billing.einvoicing.demo import seed_demo as seed_einvoicing
from billing.finance.demo import seed_demo as seed_finance
from billing.payments_online.models import PaymentProviderAccount
from billing.payments_online.services import payment_provider_account_set
from billing.peppol.demo import seed_demo as seed_peppol
from partner_portal.demo import DemoCore


def seed_demo(core: DemoCore) -> None:
    seed_finance(core)
    seed_einvoicing(core)
    seed_peppol(core)
    partner = core.partners["contoso"]
    if settings.PAYMENTS_DEMO_PROVIDER and not PaymentProviderAccount.objects.filter(partner=partner).exists():
        payment_provider_account_set(partner=partner, actor=None, provider=PaymentProviderAccount.Provider.DEMO)
