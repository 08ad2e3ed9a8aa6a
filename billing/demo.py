"""Demo invoices in every state (DESIGN.md §11), dated relative to today so "overdue" stays true.

Everything goes through the billing services, so numbers, totals and the audit trail are real.
Idempotent: a customer that already has invoices is left alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import Invoice
from billing.services import (
    AllocationInput,
    LineInput,
    credit_note_issue,
    invoice_draft_create,
    invoice_issue,
    invoice_void,
    microsoft_payable_set,
    payment_record,
)
from partner_portal import clock
from partner_portal.demo import DemoCore
from partner_portal.models import Customer, User
from subscriptions.models import Subscription


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


def _invoice(customer: Customer, actor: User, *, days_ago: int, issue: bool = True, monthly: bool = True) -> Invoice:
    """The customer's invoice for the month it was issued in; `monthly=False` for one outside the series."""
    issued_on = clock.today(customer.partner.time_zone) - dt.timedelta(days=days_ago)
    month = issued_on.replace(day=1)
    invoice = invoice_draft_create(
        partner=customer.partner, customer=customer, actor=actor, lines=_month_lines(customer, month),
        period=f"{month:%Y-%m}" if monthly else "",
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
    finance = core.users["finance@contoso.example"]
    fabrikam = core.users["admin@fabrikam.example"]
    c = core.customers
    if Invoice.objects.filter(customer__in=list(c.values())).exists():
        return

    # Northwind: last month paid in full, this month open and not yet due.
    paid = _invoice(c["northwind.example"], finance, days_ago=40)
    _pay(c["northwind.example"], finance, paid.total, days_ago=25, invoice=paid)
    _invoice(c["northwind.example"], finance, days_ago=5)
    # A. Datum: overdue and partly paid (credit terms 14 days).
    partly = _invoice(c["adatum.example"], finance, days_ago=30)
    _pay(c["adatum.example"], finance, (partly.total / 2).quantize(Decimal("0.01")), days_ago=10, invoice=partly)
    # Fourth Coffee: 8 days overdue (first reminder); Proseware: just due (terms 15 days).
    _invoice(c["fourthcoffee.example"], finance, days_ago=38)
    _invoice(c["proseware.example"], finance, days_ago=15)
    # Litware: 22 days past due (final notice), with a credit note for returned licences.
    overdue = _invoice(c["litware.example"], finance, days_ago=67)
    credit_note_issue(
        invoice=overdue, actor=finance, amount=Decimal("114.00"), reason="Two E5 licences returned within 7 days"
    )
    # Wide World Importers: 35 days past due (suspension step), a voided duplicate, and next month's draft.
    _invoice(c["wideworldimporters.example"], finance, days_ago=65)
    duplicate = _invoice(c["wideworldimporters.example"], finance, days_ago=64, monthly=False)
    invoice_void(invoice=duplicate, actor=finance, reason="Issued twice for the same month")
    _invoice(c["wideworldimporters.example"], finance, days_ago=0, issue=False)
    # Lucerne (RUB, Russian): open, not yet due.
    _invoice(c["lucerne.example"], finance, days_ago=3)
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
