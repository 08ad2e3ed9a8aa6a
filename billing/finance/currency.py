"""What holds a customer to its currency: open or draft invoices, unused credit and subscriptions
priced in it. Registered with the core's customer service (`customer_currency_holds_register`), which
refuses a currency change while any of these exist."""

from __future__ import annotations

from django.db.models import Q, Sum
from django.utils.translation import gettext, ngettext

from billing.invoicing.models import ZERO, Invoice, Payment
from billing.templatetags.money import money
from partner_portal.models import Customer
from subscriptions.models import Subscription


def customer_currency_holds(customer: Customer, currency: str) -> list[str]:
    """Phrases naming what the customer still has in `currency`, for the refusal's sentence."""
    found: list[str] = []
    invoices = (
        Invoice.objects.filter(customer=customer, currency=currency)
        .filter(Q(status=Invoice.Status.DRAFT) | Q(status__in=Invoice.OPEN_STATUSES))
        .count()
    )
    if invoices:
        found.append(
            ngettext("%(n)s open or draft invoice", "%(n)s open or draft invoices", invoices) % {"n": invoices}
        )
    credit = Payment.objects.filter(customer=customer, currency=currency, unallocated__gt=0).aggregate(
        total=Sum("unallocated")
    )["total"]
    if credit and credit > ZERO:
        found.append(gettext("%(amount)s of credit") % {"amount": money(credit, currency)})
    subscriptions = Subscription.objects.filter(customer=customer).exclude(status=Subscription.Status.CANCELLED).count()
    if subscriptions:
        found.append(ngettext("%(n)s subscription", "%(n)s subscriptions", subscriptions) % {"n": subscriptions})
    return found
