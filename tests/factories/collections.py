"""Collections helpers: invoices due on a given date, the default policy, a run on a date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.collections.models import CollectionPolicy, CollectionRun, Notice
from billing.collections.services import collection_policy_get, collections_run
from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services import LineInput
from partner_portal.models import Customer
from subscriptions.models import Subscription
from tests.factories import CustomerFactory
from tests.factories.billing import issued
from tests.factories.subscriptions import SubscriptionFactory

DUE = dt.date(2026, 11, 30)  # the due date most tests count from


def invoice_due(
    customer: Customer, due: dt.date = DUE, amount: str = "100.00", *subscriptions: Subscription
) -> Invoice:
    """An issued invoice of `amount` (no tax) due on `due`; one line per subscription, if given."""
    if subscriptions:
        share = Decimal(amount) / len(subscriptions)
        lines = [
            LineInput(description=s.product, quantity=Decimal(1), unit_price=share, kind=InvoiceLine.Kind.SUBSCRIPTION,
                      subscription=s)
            for s in subscriptions
        ]  # fmt: skip
    else:
        lines = [LineInput(description="Microsoft 365 E3", quantity=Decimal(1), unit_price=Decimal(amount))]
    invoice = issued(customer, *lines, on=due - dt.timedelta(days=customer.credit_days))
    assert invoice.due_date == due
    return invoice


# Days after the due date of each step of the default policy; at 30 the customer is suspended.
DEFAULT_STEP_DAYS = (-3, 0, 7, 14, 21, 30)


def customers_at_every_step(partner: object, count: int = 6) -> list[Subscription]:
    """One customer per step of the default policy on a run on DUE (due 3 days ahead … 30 days ago), in
    turn, each with a subscription billed on its invoice; every sixth is at the suspension step."""
    subs = []
    for n in range(count):
        customer = CustomerFactory(partner=partner)
        sub = SubscriptionFactory(customer=customer)
        invoice_due(customer, DUE - dt.timedelta(days=DEFAULT_STEP_DAYS[n % 6]), "100.00", sub)
        subs.append(sub)
    return subs


def policy(customer_or_partner: Customer | object, **changes: object) -> CollectionPolicy:
    partner = getattr(customer_or_partner, "partner", customer_or_partner)
    pol = collection_policy_get(partner=partner)  # type: ignore[arg-type]
    for name, value in changes.items():
        setattr(pol, name, value)
    if changes:
        pol.save()
    return pol


def run_on(partner: object, day: dt.date | int, **kwargs: object) -> CollectionRun:
    """Run collections on a date, or on DUE + `day` days."""
    run_date = DUE + dt.timedelta(days=day) if isinstance(day, int) else day
    return collections_run(partner=partner, run_date=run_date, **kwargs)  # type: ignore[arg-type]


def steps_sent(invoice: Invoice) -> list[tuple[int, str]]:
    return list(Notice.objects.filter(invoice=invoice).order_by("offset_days").values_list("offset_days", "action"))
