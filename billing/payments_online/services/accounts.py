"""A partner's payment provider account: set by partner admins, secrets encrypted, never shown back."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from billing.payments_online.errors import OnlinePaymentsNotSetUp, ProviderAccountInvalid
from billing.payments_online.models import PaymentProviderAccount
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from subscriptions.secrets import secret_encrypt

# Stripe's key prefixes (docs.stripe.com/keys): secret and restricted keys, and endpoint signing secrets.
_SECRET_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")
_WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def partner_account(partner_id: int) -> PaymentProviderAccount:
    """The partner's provider account; OnlinePaymentsNotSetUp when it has none."""
    account = PaymentProviderAccount.objects.filter(partner_id=partner_id).first()
    if account is None:
        raise OnlinePaymentsNotSetUp(_("Card payments are not set up: please pay by bank transfer."))
    return account


def customer_account(customer: Customer) -> PaymentProviderAccount:
    """The account a customer pays through: the partner's, when it offers this customer card payments."""
    account = partner_account(customer.partner_id)
    if not customer.card_payments:
        raise OnlinePaymentsNotSetUp(_("Card payments are not offered for this account: please pay by bank transfer."))
    return account


def _invalid(field: str, message: str) -> ProviderAccountInvalid:
    return ProviderAccountInvalid(message, fields={field: [message]})


@transaction.atomic
def payment_provider_account_set(
    *, partner: Partner, actor: User | None, provider: str, secret_key: str = "", webhook_secret: str = ""
) -> PaymentProviderAccount:
    """Connect or change the partner's provider. For Stripe a new account needs the secret key and the
    webhook signing secret; an empty one keeps what is stored. The demo provider (where the
    installation offers it) needs neither: it signs its own events with a secret made here.
    Audited without the secrets."""
    secret_key, webhook_secret = secret_key.strip(), webhook_secret.strip()
    account = PaymentProviderAccount.objects.select_for_update().filter(partner=partner).first()
    changed_provider = account is None or account.provider != provider
    if provider == PaymentProviderAccount.Provider.DEMO:
        if not settings.PAYMENTS_DEMO_PROVIDER:
            raise _invalid("provider", _("The demo provider is not available on this installation."))
        secret_key, webhook_secret = (
            "",
            webhook_secret
            or ("" if account is not None and not changed_provider else f"whsec_demo_{secrets.token_urlsafe(24)}"),
        )
    elif provider == PaymentProviderAccount.Provider.STRIPE:
        if secret_key and not secret_key.startswith(_SECRET_KEY_PREFIXES):
            raise _invalid("secret_key", _("A Stripe secret key starts with sk_live_, sk_test_ or rk_."))
        if webhook_secret and not webhook_secret.startswith(_WEBHOOK_SECRET_PREFIX):
            raise _invalid("webhook_secret", _("A Stripe webhook signing secret starts with whsec_."))
        if changed_provider and not secret_key:
            raise _invalid("secret_key", _("Enter the secret key of your Stripe account."))
        if changed_provider and not webhook_secret:
            raise _invalid("webhook_secret", _("Enter the signing secret of the webhook endpoint."))
    else:
        raise _invalid("provider", _("Choose a payment provider."))
    if account is None:
        account = PaymentProviderAccount(partner=partner)
    account.provider = provider
    if provider == PaymentProviderAccount.Provider.DEMO:
        account.secret_key_encrypted, account.key_hint = "", ""
    elif secret_key:
        account.secret_key_encrypted, account.key_hint = secret_encrypt(secret_key), secret_key[-4:]
    if webhook_secret:
        account.webhook_secret_encrypted = secret_encrypt(webhook_secret)
    account.updated_at, account.updated_by = clock.now(), actor
    account.save()
    audit_record(
        partner=partner, actor=actor, action="payments.account_set", target=account,
        data={"provider": provider, "secret_key_changed": bool(secret_key),
              "webhook_secret_changed": bool(webhook_secret)},
    )  # fmt: skip
    return account
