"""Writes of online payments: the provider account, checkouts, webhooks, the demo provider's checkout."""

from billing.payments_online.services.accounts import payment_provider_account_set
from billing.payments_online.services.checkout import checkout_start_invoice, checkout_start_overdue
from billing.payments_online.services.demo import demo_checkout_finish, demo_checkout_get
from billing.payments_online.services.webhooks import webhook_receive

__all__ = [
    "checkout_start_invoice",
    "checkout_start_overdue",
    "demo_checkout_finish",
    "demo_checkout_get",
    "payment_provider_account_set",
    "webhook_receive",
]
