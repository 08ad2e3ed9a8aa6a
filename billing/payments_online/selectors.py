"""Reads of online payments for pages and for the pay link."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from billing.invoicing.models import Invoice
from billing.invoicing.paylink import PayLinkInvalid, pay_link_read
from billing.payments_online.models import AutopayAttempt, OnlineCheckout, PaymentProviderAccount, SavedCard
from partner_portal.models import Customer
from partner_portal.tenancy import Scope, get_scoped_or_404

CHECKOUTS_SHOWN = 20


def online_payments_enabled(*, partner_id: int) -> bool:
    """Whether the partner takes card payments: a provider account this installation can use. One query."""
    providers = [PaymentProviderAccount.Provider.STRIPE]
    if settings.PAYMENTS_DEMO_PROVIDER:
        providers.append(PaymentProviderAccount.Provider.DEMO)
    return PaymentProviderAccount.objects.filter(partner_id=partner_id, provider__in=providers).exists()


def card_payments_offered(*, customer: Customer) -> bool:
    """Whether this customer may pay by card online: the partner takes card payments and offers them
    to this customer. One query."""
    return customer.card_payments and online_payments_enabled(partner_id=customer.partner_id)


def provider_account(*, scope: Scope) -> PaymentProviderAccount | None:
    return PaymentProviderAccount.objects.for_scope(scope).first()


def checkout_list(*, scope: Scope) -> QuerySet[OnlineCheckout]:
    """Recent checkouts, newest first, with what staff need to see (refunded, disputed)."""
    return (
        OnlineCheckout.objects.for_scope(scope)
        .select_related("customer", "invoice", "payment")
        .order_by("-created_at", "-pk")[:CHECKOUTS_SHOWN]
    )


def checkout_get(*, scope: Scope, pk: int | str) -> OnlineCheckout:
    return get_scoped_or_404(OnlineCheckout.objects.select_related("invoice"), scope, pk=pk)


def pay_link_invoice(*, token: str) -> Invoice:
    """The issued invoice a pay link names, with its partner; PayLinkInvalid when the link is forged,
    expired, or its invoice is gone or a draft."""
    invoice_id, partner_id = pay_link_read(token)
    invoice = (
        Invoice.objects.select_related("partner", "customer")
        .exclude(status=Invoice.Status.DRAFT)
        .filter(pk=invoice_id, partner_id=partner_id)
        .first()
    )
    if invoice is None:
        raise PayLinkInvalid(expired=False)
    return invoice


def pay_link_last_checkout(*, invoice: Invoice) -> OnlineCheckout | None:
    return OnlineCheckout.objects.filter(partner_id=invoice.partner_id, invoice=invoice).order_by("-pk").first()


def saved_card(*, scope: Scope, customer: Customer) -> SavedCard | None:
    """The customer's card record (a card saved or not), within the scope."""
    return SavedCard.objects.for_scope(scope).filter(customer=customer).first()


def autopay_last_attempt(*, scope: Scope, customer: Customer) -> AutopayAttempt | None:
    """The customer's latest autopay charge, with its invoice."""
    return (
        AutopayAttempt.objects.for_scope(scope)
        .filter(customer=customer)
        .select_related("invoice")
        .order_by("-created_at", "-pk")
        .first()
    )


def autopay_staff_customer(scope: Scope, customer_id: int) -> dict[str, Any]:
    """Autopay of one customer for staff pages (billing.invoicing.autopay_status): the card, the latest charge."""
    return {
        "card": SavedCard.objects.for_scope(scope).filter(customer_id=customer_id).first(),
        "last_attempt": (
            AutopayAttempt.objects.for_scope(scope).filter(customer_id=customer_id).select_related("invoice")
            .order_by("-created_at", "-pk").first()
        ),
    }  # fmt: skip


def autopay_staff_invoice(scope: Scope, invoice_id: int) -> list[AutopayAttempt]:
    """An invoice's autopay charges, newest first, for its staff page."""
    return list(AutopayAttempt.objects.for_scope(scope).filter(invoice_id=invoice_id).order_by("-created_at", "-pk"))
