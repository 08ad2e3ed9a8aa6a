"""Demo invoices in every state (docs/architecture.md), dated relative to today so "overdue" stays true.

Everything goes through the billing services, so numbers, totals and the audit trail are real.
Idempotent: a customer that already has invoices is left alone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from billing.collections.models import CollectionRun
from billing.collections.services import collections_run, customer_collections_hold
from billing.invoicing.models import Invoice
from billing.invoicing.services import (
    AllocationInput,
    LineInput,
    credit_note_issue,
    invoice_draft_create,
    invoice_issue,
    invoice_void,
    payment_record,
)
from billing.reconciliation.services import microsoft_payable_set
from partner_portal import clock
from partner_portal.demo import DemoCore
from partner_portal.models import Customer, User
from partner_portal.services import customer_create, customer_update
from subscriptions.models import Subscription, SubscriptionChange
from subscriptions.services import SubscriptionInput, subscription_change_push, subscription_create


def _month_lines(customer: Customer, month: dt.date) -> list[LineInput]:
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return [
        LineInput(
            description=f"{s.product} — {month:%B %Y}",
            quantity=Decimal(s.quantity),
            unit_price=s.unit_price,
            tax_rate=s.tax_rate,
            kind="subscription",
            subscription=s,
            period_start=month,
            period_end=end,
        )
        for s in Subscription.objects.filter(customer=customer).order_by("pk")
    ]


def _invoice(
    customer: Customer, actor: User, *, days_ago: int, issue: bool = True, monthly: bool = True,
    tax_currency_rate: Decimal | None = None,
) -> Invoice:  # fmt: skip
    """The customer's invoice for the month it was issued in; `monthly=False` for one outside the series."""
    issued_on = clock.today(customer.partner.time_zone) - dt.timedelta(days=days_ago)
    month = issued_on.replace(day=1)
    invoice = invoice_draft_create(
        partner=customer.partner, customer=customer, actor=actor, lines=_month_lines(customer, month),
        period=f"{month:%Y-%m}" if monthly else "", tax_currency_rate=tax_currency_rate,
    )  # fmt: skip
    return invoice_issue(invoice=invoice, actor=actor, issue_date=issued_on) if issue else invoice


def _pay(customer: Customer, actor: User, amount: Decimal, *, days_ago: int, invoice: Invoice | None = None) -> None:
    payment_record(
        partner=customer.partner,
        customer=customer,
        actor=actor,
        amount=amount,
        received_on=clock.today(customer.partner.time_zone) - dt.timedelta(days=days_ago),
        reference=f"Remittance {customer.domain.split('.')[0].upper()}-{days_ago:03d}",
        allocations=[AllocationInput(invoice=invoice, amount=amount)] if invoice else None,
    )


def seed_demo(core: DemoCore) -> None:
    _seed_invoices(core)
    _seed_collections(core)


def _seed_invoices(core: DemoCore) -> None:
    finance = core.users["finance@contoso.example"]
    fabrikam = core.users["admin@fabrikam.example"]
    c = core.customers
    if Invoice.objects.filter(customer__in=list(c.values())).exists():
        return

    # The overdue invoices sit on the steps of the default collections policy today (-3, 0, +7,
    # +14, +21, +30 days from the due date), so the collections run at the end of the seed shows
    # each step: days_ago = credit terms + days past due.
    # Northwind: last month paid in full, this month open and not yet due.
    paid = _invoice(c["northwind.example"], finance, days_ago=40)
    _pay(c["northwind.example"], finance, paid.total, days_ago=25, invoice=paid)
    _invoice(c["northwind.example"], finance, days_ago=5)
    # A. Datum: 30 days past due and partly paid (credit terms 14 days): the suspension step.
    partly = _invoice(c["adatum.example"], finance, days_ago=44)
    _pay(c["adatum.example"], finance, (partly.total / 2).quantize(Decimal("0.01")), days_ago=10, invoice=partly)
    # Fourth Coffee: 7 days overdue (first reminder after the due date); Proseware: due today (terms 15 days).
    # Its invoice is in euros and states its tax in Contoso's dollars too (the PDF, UBL and CII).
    _invoice(c["fourthcoffee.example"], finance, days_ago=37, tax_currency_rate=Decimal("1.08"))
    _invoice(c["proseware.example"], finance, days_ago=15)
    # Litware: 21 days past due (final notice), with a credit note for returned licences.
    overdue = _invoice(c["litware.example"], finance, days_ago=66)
    credit_note_issue(
        invoice=overdue, actor=finance, amount=Decimal("114.00"), reason="Two E5 licences returned within 7 days"
    )
    # Wide World Importers: 14 days past due (second reminder), a voided duplicate, and next month's draft.
    _invoice(c["wideworldimporters.example"], finance, days_ago=44)
    duplicate = _invoice(c["wideworldimporters.example"], finance, days_ago=43, monthly=False)
    invoice_void(invoice=duplicate, actor=finance, reason="Issued twice for the same month")
    _invoice(c["wideworldimporters.example"], finance, days_ago=0, issue=False)
    # Lucerne (RUB, Russian): due in three days (the reminder before the due date, in Russian).
    _invoice(c["lucerne.example"], finance, days_ago=27)
    # Woodgrove Bank: paid, with an overpayment left as credit for the next invoice.
    woodgrove = _invoice(c["woodgrovebank.example"], finance, days_ago=20)
    _pay(c["woodgrovebank.example"], finance, woodgrove.total + Decimal("500.00"), days_ago=12)
    # What Contoso owes Microsoft for last month: more than its customers will have paid by then.
    today = clock.today(finance.membership.partner.time_zone)
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    microsoft_payable_set(
        partner=finance.membership.partner, actor=finance, period=f"{last_month:%Y-%m}", amount=Decimal("9450.00"),
        currency="USD", due_date=today + dt.timedelta(days=12), notes="Partner Center invoice G0123456789",
    )  # fmt: skip
    # Fabrikam: Tailspin overdue, Wingtip paid.
    _invoice(c["tailspintoys.example"], fabrikam, days_ago=45)
    wingtip = _invoice(c["wingtiptoys.example"], fabrikam, days_ago=33)
    _pay(c["wingtiptoys.example"], fabrikam, wingtip.total, days_ago=20, invoice=wingtip)


# ---- Collections --------------------------------------------------------------------------------------

_COLLECTIONS_NAMESPACE = uuid.UUID("8d0b6a4e-52f1-4c3b-9e7a-3a1f0c9d2b64")


@dataclass(frozen=True)
class _HeldCustomer:
    """A Contoso customer added for collections: overdue, and either exempt or with a promise to pay."""

    name: str
    domain: str
    contact: str
    product: str
    quantity: int
    price: str
    days_overdue: int
    exempt: bool = False
    promise_days: int | None = None  # promise to pay until today + this


COLLECTIONS_CUSTOMERS = [
    # Promised to pay within the week: reminders and suspension wait until then.
    _HeldCustomer("Coho Winery", "cohowinery.example", "Kim Abercrombie", "Microsoft 365 Business Standard", 8,
                  "12.50", days_overdue=25, promise_days=6),
    # A hospital: never suspended for late payment, reminders still go.
    _HeldCustomer("Alpine Ski House", "alpineskihouse.example", "Ravi Kumar", "Microsoft 365 E3", 14, "36.00",
                  days_overdue=22, exempt=True),
]  # fmt: skip


def _collections_customer(spec: _HeldCustomer, admin: User) -> Customer:
    partner = admin.membership.partner
    tenant_id = uuid.uuid5(_COLLECTIONS_NAMESPACE, f"{partner.slug}:{spec.domain}")
    customer = Customer.objects.filter(partner=partner, tenant_id=tenant_id).first()
    if customer is not None:
        return customer
    customer = customer_create(
        partner=partner, actor=admin,
        data={"name": spec.name, "tenant_id": tenant_id, "domain": spec.domain, "billing_contact": spec.contact,
              "billing_email": f"accounts@{spec.domain}", "country": "US", "currency": "USD", "credit_days": 30},
    )  # fmt: skip
    subscription_create(
        partner=partner, actor=admin,
        data=SubscriptionInput(
            customer=customer, product=spec.product, unit_price=Decimal(spec.price), quantity=spec.quantity,
            start_date=clock.today(partner.time_zone).replace(day=1) - dt.timedelta(days=180),
            microsoft_subscription_id=str(uuid.uuid5(_COLLECTIONS_NAMESPACE, f"{spec.domain}:{spec.product}")),
            unit_cost=(Decimal(spec.price) * Decimal("0.8")).quantize(Decimal("0.01")),
        ),
    )  # fmt: skip
    _invoice(customer, admin, days_ago=customer.credit_days + spec.days_overdue)
    if spec.exempt:
        customer = customer_update(customer=customer, actor=admin, changes={"collections_exempt": True})
    if spec.promise_days is not None:
        until = clock.today(partner.time_zone) + dt.timedelta(days=spec.promise_days)
        customer = customer_collections_hold(
            customer=customer, actor=admin, until=until, reason="Promised by phone to pay by bank transfer this week"
        )
    return customer


def _seed_collections(core: DemoCore) -> None:
    """Two more Contoso customers (held, exempt), then today's collections run of every demo partner,
    once: its notices are emailed by the worker, its suspensions confirmed at once (the record-only
    Partner Center backend), so A. Datum sees the suspension banner on its home page right away."""
    finance = core.users["finance@contoso.example"]
    for spec in COLLECTIONS_CUSTOMERS:
        _collections_customer(spec, core.users["admin@contoso.example"])
    for partner in core.partners.values():
        if CollectionRun.objects.filter(partner=partner).exists():
            continue  # seeded before: the daily schedule takes it from here
        actor = finance if partner.pk == finance.membership.partner_id else None
        collections_run(partner=partner, run_date=clock.today(partner.time_zone), actor=actor, triggered_by="command")
        # The worker would push the changes after commit; the seed confirms them now, so the demo
        # starts with the suspension in place (a second push of a confirmed change does nothing).
        for change_id in SubscriptionChange.objects.filter(partner=partner, state="pending").values_list(
            "pk", flat=True
        ):
            subscription_change_push(change_id=change_id)
