"""Starting a hosted checkout: for one open invoice, or for the customer's whole overdue balance.

The checkout row is written and committed first (its id is the provider's idempotency key and comes
back in the webhook), then the provider is called outside any transaction; a refusal closes the row.
Nothing is paid here: only the provider's signed webhook records a payment (services/webhooks.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from billing.invoicing.models import ZERO, Invoice
from billing.payments_online.errors import CheckoutRefused, ProviderUnavailable
from billing.payments_online.models import OnlineCheckout, PaymentProviderAccount
from billing.payments_online.providers import CheckoutRequest, provider_for
from billing.payments_online.services.accounts import customer_account
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, User


def _start(
    *, account: PaymentProviderAccount, customer: Customer, invoice: Invoice | None, shares: dict[int, Decimal],
    description: str, actor: User | None, success_url: str, cancel_url: str,
) -> OnlineCheckout:  # fmt: skip
    provider = provider_for(account)
    amount = sum(shares.values(), ZERO)
    with transaction.atomic():
        checkout = OnlineCheckout.objects.create(
            partner_id=customer.partner_id, customer=customer, invoice=invoice, provider=account.provider,
            amount=amount, currency=customer.currency, invoices={str(k): str(v) for k, v in shares.items()},
            started_by=actor,
        )  # fmt: skip
    request = CheckoutRequest(
        reference=checkout.pk, amount=amount, currency=customer.currency, description=description,
        success_url=success_url.replace("{checkout}", str(checkout.pk)),
        cancel_url=cancel_url.replace("{checkout}", str(checkout.pk)),
        customer_email=customer.billing_email,
    )  # fmt: skip
    try:
        started = provider.checkout_create(request)
    except ProviderUnavailable:
        OnlineCheckout.objects.filter(pk=checkout.pk).update(status=OnlineCheckout.Status.EXPIRED)
        raise
    checkout.session_id, checkout.url = started.session_id, started.url
    checkout.success_url, checkout.cancel_url = request.success_url, request.cancel_url
    checkout.save(update_fields=["session_id", "url", "success_url", "cancel_url"])
    audit_record(
        partner=customer.partner, customer=customer, actor=actor, action="payments.checkout_started",
        target=checkout, data={"amount": str(amount), "currency": customer.currency, "invoices": checkout.invoices},
    )  # fmt: skip
    return checkout


def checkout_start_invoice(
    *, invoice: Invoice, actor: User | None, success_url: str, cancel_url: str
) -> OnlineCheckout:
    """A checkout for the open balance of one invoice, in its currency. `{checkout}` in the return
    addresses is replaced with the checkout's id. Refused when the invoice is not open."""
    account = customer_account(invoice.customer)
    if not invoice.is_open or invoice.balance <= ZERO:
        raise CheckoutRefused(_("Invoice %(number)s has nothing left to pay.") % {"number": invoice.number})
    return _start(
        account=account, customer=invoice.customer, invoice=invoice, shares={invoice.pk: invoice.balance},
        description=_("Invoice %(number)s") % {"number": invoice.number}, actor=actor,
        success_url=success_url, cancel_url=cancel_url,
    )  # fmt: skip


def checkout_start_overdue(
    *, customer: Customer, actor: User | None, success_url: str, cancel_url: str
) -> OnlineCheckout:
    """A checkout for the customer's whole overdue balance (its open invoices past their due date)."""
    account = customer_account(customer)
    today = clock.today(customer.partner.time_zone)
    overdue = list(
        Invoice.objects.overdue(today)
        .filter(customer=customer, currency=customer.currency, balance__gt=ZERO)
        .order_by("due_date", "pk")
        .values_list("pk", "balance")
    )
    if not overdue:
        raise CheckoutRefused(_("Nothing is overdue."))
    return _start(
        account=account, customer=customer, invoice=None, shares=dict(overdue),
        description=_("Overdue balance of %(customer)s") % {"customer": customer.name}, actor=actor,
        success_url=success_url, cancel_url=cancel_url,
    )  # fmt: skip
