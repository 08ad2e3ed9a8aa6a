"""Writes of online payments: the provider account, checkouts, autopay, webhooks, the demo provider's pages."""

from billing.payments_online.services.accounts import payment_provider_account_set
from billing.payments_online.services.autopay import (
    autopay_charge_invoice,
    autopay_run,
    autopay_set,
    card_remove,
    card_setup_start,
)
from billing.payments_online.services.checkout import checkout_start_invoice, checkout_start_overdue
from billing.payments_online.services.demo import (
    demo_card_setup_finish,
    demo_card_setup_get,
    demo_checkout_finish,
    demo_checkout_get,
)
from billing.payments_online.services.webhooks import webhook_receive

__all__ = [
    "autopay_charge_invoice",
    "autopay_run",
    "autopay_set",
    "card_remove",
    "card_setup_start",
    "checkout_start_invoice",
    "checkout_start_overdue",
    "demo_card_setup_finish",
    "demo_card_setup_get",
    "demo_checkout_finish",
    "demo_checkout_get",
    "payment_provider_account_set",
    "webhook_receive",
]
