"""Payments: recorded by finance, allocated to invoices; what is left over is the customer's credit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.invoicing.errors import AllocationInvalid
from billing.invoicing.models import ZERO, Invoice, Payment, PaymentAllocation
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from partner_portal.money import quantize


@dataclass(frozen=True)
class AllocationInput:
    invoice: Invoice
    amount: Decimal


def _exact_money(amount: Decimal, currency: str) -> Decimal:
    if quantize(amount, currency) != amount:
        raise AllocationInvalid(
            _("%(amount)s has more decimal places than %(currency)s allows.") % {"amount": amount, "currency": currency}
        )
    return quantize(amount, currency)


def _allocate(*, payment: Payment, invoice: Invoice, amount: Decimal) -> None:
    """Move `amount` of the payment onto the invoice. Both rows are locked by the caller."""
    PaymentAllocation.objects.create(partner_id=payment.partner_id, payment=payment, invoice=invoice, amount=amount)
    invoice.amount_paid += amount
    invoice.balance -= amount
    invoice.status = invoice.settled_status()
    invoice.save(update_fields=["amount_paid", "balance", "status"])
    payment.unallocated -= amount
    payment.save(update_fields=["unallocated"])


def payment_date_check(*, partner: Partner, received_on: dt.date) -> None:
    """A payment is received on or before today in the partner's time zone (the page, the API and
    imports refuse a date ahead alike)."""
    if received_on > clock.today(partner.time_zone):
        raise AllocationInvalid(
            _("A payment cannot be received in the future."),
            fields={"received_on": [_("A payment cannot be received in the future.")]},
        )


def _paid_after_issue(*, invoice: Invoice, received_on: dt.date) -> None:
    """A payment cannot be received before the invoice it pays was issued."""
    if invoice.issue_date is not None and received_on < invoice.issue_date:
        message = _("A payment of invoice %(number)s cannot be received before it was issued on %(date)s.") % {
            "number": invoice.number, "date": date_format(invoice.issue_date),
        }  # fmt: skip
        raise AllocationInvalid(message, fields={"received_on": [message]})


@transaction.atomic
def payment_record(
    *,
    partner: Partner,
    customer: Customer,
    actor: User | None,
    amount: Decimal,
    received_on: dt.date,
    method: str = Payment.Method.BANK_TRANSFER,
    reference: str = "",
    allocations: Sequence[AllocationInput] | None = None,
) -> Payment:
    """Record a payment in the customer's currency and allocate it.

    With `allocations`, exactly those amounts go to those invoices (each open, of this customer, at
    most its balance). Without, the oldest open invoices are paid first. What is left over becomes
    customer credit that the next issued invoice uses. Nothing is created if any part is refused.
    """
    if customer.partner_id != partner.pk:
        raise ValueError("customer belongs to another partner")
    amount = _exact_money(amount, customer.currency)
    if amount <= ZERO:
        raise AllocationInvalid(_("A payment must be more than zero."))
    payment_date_check(partner=partner, received_on=received_on)
    payment = Payment.objects.create(
        partner=partner, customer=customer, amount=amount, currency=customer.currency, received_on=received_on,
        method=method, reference=reference.strip(), unallocated=amount, recorded_by=actor,
    )  # fmt: skip
    if allocations is None:
        open_invoices = (
            Invoice.objects.select_for_update()
            .filter(customer=customer, currency=payment.currency, issue_date__lte=received_on, balance__gt=ZERO)
            .open()
            .order_by("due_date", "issue_date", "pk")
        )
        for invoice in open_invoices:
            if payment.unallocated <= ZERO:
                break
            _allocate(payment=payment, invoice=invoice, amount=min(invoice.balance, payment.unallocated))
    else:
        wanted = {a.invoice.pk: a.amount for a in allocations}
        if len(wanted) != len(allocations):
            raise AllocationInvalid(_("Each invoice can appear only once in a payment's allocations."))
        locked = {
            i.pk: i for i in Invoice.objects.select_for_update().filter(pk__in=wanted, customer=customer).order_by("pk")
        }
        if sum(wanted.values(), ZERO) > amount:
            raise AllocationInvalid(_("The allocations add up to more than the payment."))
        for invoice_id, share in wanted.items():
            if invoice_id not in locked:
                raise AllocationInvalid(_("An allocated invoice does not belong to this customer."))
            invoice = locked[invoice_id]
            share = _exact_money(share, customer.currency)
            if not invoice.is_open:
                raise AllocationInvalid(_("Invoice %(number)s is not open for payment.") % {"number": invoice})
            _paid_after_issue(invoice=invoice, received_on=received_on)
            if invoice.currency != payment.currency:
                raise AllocationInvalid(
                    _("Invoice %(number)s is in %(currency)s; record the payment in that currency.")
                    % {"number": invoice.number, "currency": invoice.currency}
                )
            if share <= ZERO or share > invoice.balance:
                raise AllocationInvalid(
                    _("%(amount)s is not between 0 and the balance of %(number)s (%(balance)s).")
                    % {"amount": share, "number": invoice.number, "balance": invoice.balance}
                )
            _allocate(payment=payment, invoice=invoice, amount=share)
    audit_record(
        partner=partner, customer=customer, actor=actor, action="payment.recorded", target=payment,
        data={
            "amount": str(amount), "method": method, "reference": payment.reference,
            "allocated": {a.invoice.number: str(a.amount) for a in payment.allocations.select_related("invoice")},
            "credit": str(payment.unallocated),
        },
    )  # fmt: skip
    return payment


def customer_credit_apply(*, invoice: Invoice, actor: User | None) -> Decimal:
    """Use the customer's credit (unallocated payments, oldest first) on an open invoice.
    Returns the amount applied. Runs inside the caller's transaction, with the invoice locked."""
    if not invoice.is_open:
        return ZERO
    applied = ZERO
    credits = (
        Payment.objects.select_for_update()
        .filter(customer_id=invoice.customer_id, currency=invoice.currency, unallocated__gt=0)
        .order_by("received_on", "pk")
    )
    for payment in credits:
        if invoice.balance <= ZERO:
            break
        share = min(invoice.balance, payment.unallocated)
        _allocate(payment=payment, invoice=invoice, amount=share)
        applied += share
    if applied:
        audit_record(
            partner=invoice.partner, customer=invoice.customer, actor=actor, action="credit.applied", target=invoice,
            data={"amount": str(applied), "number": invoice.number},
        )  # fmt: skip
    return applied
