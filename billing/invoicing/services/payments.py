"""Payments: recorded by finance, allocated to invoices; what is left over is the customer's credit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db import transaction
from django.db.models import Sum
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.invoicing.errors import AllocationInvalid, PaymentCorrectionInvalid, PaymentHasRefunds, PaymentVoided
from billing.invoicing.models import ZERO, Invoice, Payment, PaymentAllocation, Refund
from billing.invoicing.services.listeners import customer_balances_changed, customer_balances_lock
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from partner_portal.money import quantize


class SettlementListener(Protocol):
    def __call__(self, *, customer: Customer, actor: User | None) -> None: ...


# Parts above invoicing act when money stops paying a customer's invoices (a voided payment, a refund
# from allocated money): collections recompute where the customer stands. Invoicing does not import
# them (the layers contract); they register here in billing.apps.BillingConfig.ready().
_reopened_listeners: list[SettlementListener] = []


def invoices_reopened_listener_register(listener: SettlementListener) -> None:
    """Have `listener(customer=..., actor=...)` run inside every transaction that reopens invoices."""
    if listener not in _reopened_listeners:
        _reopened_listeners.append(listener)


def invoices_reopened(*, customer: Customer, actor: User | None) -> None:
    for listener in _reopened_listeners:
        listener(customer=customer, actor=actor)


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
    provider: str = "",
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
        method=method, reference=reference.strip(), provider=provider, unallocated=amount, recorded_by=actor,
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
    customer_balances_lock(customer_id=customer.pk)  # after the invoices, as every write that changes a balance
    audit_record(
        partner=partner, customer=customer, actor=actor, action="payment.recorded", target=payment,
        data={
            "amount": str(amount), "method": method, "reference": payment.reference,
            "allocated": {a.invoice.number: str(a.amount) for a in payment.allocations.select_related("invoice")},
            "credit": str(payment.unallocated),
        },
    )  # fmt: skip
    customer_balances_changed(customer_ids=[customer.pk])
    return payment


def customer_credit_apply(*, invoice: Invoice, actor: User | None) -> Decimal:
    """Use the customer's credit (unallocated payments, oldest first) on an open invoice.
    Returns the amount applied. Runs inside the caller's transaction, with the invoice and its customer locked."""
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
        customer_balances_changed(customer_ids=[invoice.customer_id])
    return applied


def allocation_reverse(*, allocation: PaymentAllocation, invoice: Invoice) -> None:
    """Take an allocation's money off its invoice: the row stays as history (`reversed_at`), the
    invoice's amount paid, balance and status are recomputed. The invoice is locked by the caller."""
    allocation.reversed_at = clock.now()
    allocation.save(update_fields=["reversed_at"])
    invoice.amount_paid -= allocation.amount
    invoice.balance += allocation.amount
    invoice.status = invoice.settled_status()
    invoice.save(update_fields=["amount_paid", "balance", "status"])
    customer_balances_changed(customer_ids=[invoice.customer_id])


def payment_lock(payment: Payment) -> Payment:
    """The payment and the invoices it pays, locked in one order: the invoices by id (as payment_record
    does), so a void or refund never deadlocks with a payment being recorded; then the customer (as
    every write that changes a balance); then the payment (an invoice being issued takes the customer's
    credit after the customer). Only the payment's row, not its partner's or customer's: the rows that
    refer to them, inserted meanwhile by the partner's other work, need not wait."""
    invoice_ids = list(
        PaymentAllocation.objects.filter(payment_id=payment.pk)
        .order_by("invoice_id")
        .values_list("invoice_id", flat=True)
    )
    list(Invoice.objects.select_for_update().filter(pk__in=invoice_ids).order_by("pk").values_list("pk", flat=True))
    customer_balances_lock(customer_id=payment.customer_id)
    return Payment.objects.select_for_update(of=("self",)).select_related("partner", "customer").get(pk=payment.pk)


@transaction.atomic
def payment_void(*, payment: Payment, actor: User | None, reason: str) -> Payment:
    """Void a payment recorded in error (a bounced transfer, a duplicate): its allocations are reversed
    and kept as history, the invoices it paid are open again (balance and status recomputed), the credit
    it left is gone, and collections look at the customer again. A reason is required; audited.
    Voiding a voided payment changes nothing."""
    payment = payment_lock(payment)
    if payment.is_voided:
        return payment
    reason = reason.strip()
    if not reason:
        message = _("Give a reason for voiding the payment.")
        raise PaymentCorrectionInvalid(message, fields={"reason": [message]})
    if Refund.objects.filter(payment=payment).exists():
        raise PaymentHasRefunds(_("Part of this payment was refunded to the customer, so it cannot be voided."))
    reopened: dict[str, str] = {}
    allocations = payment.allocations.active().select_related("invoice").order_by("invoice_id", "pk")
    invoices = {i.pk: i for i in Invoice.objects.filter(pk__in=[a.invoice_id for a in allocations])}
    for allocation in allocations:
        invoice = invoices[allocation.invoice_id]
        allocation_reverse(allocation=allocation, invoice=invoice)
        reopened[invoice.number] = str(allocation.amount)
    payment.voided_at, payment.void_reason, payment.voided_by = clock.now(), reason, actor
    payment.unallocated = ZERO
    payment.save(update_fields=["voided_at", "void_reason", "voided_by", "unallocated"])
    audit_record(
        partner=payment.partner, customer=payment.customer, actor=actor, action="payment.voided", target=payment,
        data={"amount": str(payment.amount), "reference": payment.reference, "reason": reason, "reopened": reopened},
    )  # fmt: skip
    if reopened:
        invoices_reopened(customer=payment.customer, actor=actor)
    return payment


@dataclass(frozen=True)
class RefundSource:
    """How much of a refund comes off one of the payment's allocations."""

    allocation: PaymentAllocation
    amount: Decimal


def _refund_field_error(field: str, message: str) -> PaymentCorrectionInvalid:
    return PaymentCorrectionInvalid(message, fields={field: [message]})


@transaction.atomic
def refund_record(
    *,
    payment: Payment,
    actor: User | None,
    amount: Decimal,
    refunded_on: dt.date,
    reason: str,
    reference: str = "",
    sources: Sequence[RefundSource] = (),
    credit_invoices: bool = False,
) -> Refund:
    """Give money of a payment back to the customer.

    The rule (docs/architecture.md, "Refunds"): a refund is at most what is left of the payment (its
    amount less earlier refunds) and comes first from the allocations finance names in `sources` —
    each reversed and, for a part, allocated again with the rest, so its invoice owes that part again —
    and the remainder from the payment's credit (`unallocated`). Money applied to an invoice is never
    taken without naming it. With `credit_invoices`, each named invoice is at once credited with a
    credit note for its part, so the customer does not owe it again (a disputed, paid invoice). Dated
    between the payment's date and today. Audited; collections look again at a customer whose
    invoices reopen.
    """
    from billing.invoicing.services.credit_notes import credit_note_issue  # credit notes sit beside payments

    payment = payment_lock(payment)
    currency = payment.currency
    if payment.is_voided:
        raise PaymentVoided(_("This payment is void: there is nothing to refund."))
    if quantize(amount, currency) != amount or amount <= ZERO:
        raise _refund_field_error("amount", _("Enter an amount above zero in %(currency)s.") % {"currency": currency})
    refunded = Refund.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"] or ZERO
    if amount > payment.amount - refunded:
        raise _refund_field_error(
            "amount",
            _("%(amount)s is more than what is left of the payment (%(left)s).")
            % {"amount": amount, "left": payment.amount - refunded},
        )
    today = clock.today(payment.partner.time_zone)
    if refunded_on > today or refunded_on < payment.received_on:
        raise _refund_field_error(
            "refunded_on",
            _("A refund is dated between the payment's date (%(received)s) and today.")
            % {"received": date_format(payment.received_on)},
        )
    reason = reason.strip()
    if not reason:
        raise _refund_field_error("reason", _("Give a reason for the refund."))
    active = {a.pk: a for a in payment.allocations.active().select_related("invoice")}
    if len({s.allocation.pk for s in sources}) != len(sources):
        raise _refund_field_error("sources", _("Each invoice can appear only once in a refund."))
    from_invoices: dict[str, Decimal] = {}
    for source in sources:
        allocation = active.get(source.allocation.pk)
        share = source.amount
        if allocation is None:
            raise _refund_field_error("sources", _("A refund can only come from this payment's own allocations."))
        if quantize(share, currency) != share or share <= ZERO or share > allocation.amount:
            raise _refund_field_error(
                "sources",
                _("%(amount)s is not between 0 and what this payment paid on %(number)s (%(paid)s).")
                % {"amount": share, "number": allocation.invoice.number, "paid": allocation.amount},
            )
        from_invoices[allocation.invoice.number] = share
    from_credit = amount - sum(from_invoices.values(), ZERO)
    if from_credit < ZERO:
        raise _refund_field_error("sources", _("The invoices named add up to more than the refund."))
    if from_credit > payment.unallocated:
        raise _refund_field_error(
            "sources",
            _(
                "Only %(credit)s of this payment is unused credit: choose which invoices the rest comes from, "
                "or issue a credit note first."
            )
            % {"credit": payment.unallocated},
        )
    invoices = {i.pk: i for i in Invoice.objects.filter(pk__in=[active[s.allocation.pk].invoice_id for s in sources])}
    reopened: list[tuple[Invoice, Decimal]] = []
    for source in sources:
        allocation = active[source.allocation.pk]
        invoice = invoices[allocation.invoice_id]
        allocation_reverse(allocation=allocation, invoice=invoice)
        rest = allocation.amount - source.amount
        if rest > ZERO:  # the part not refunded still pays the invoice
            PaymentAllocation.objects.create(
                partner_id=payment.partner_id, payment=payment, invoice=invoice, amount=rest
            )
            invoice.amount_paid += rest
            invoice.balance -= rest
            invoice.status = invoice.settled_status()
            invoice.save(update_fields=["amount_paid", "balance", "status"])
        reopened.append((invoice, source.amount))
    payment.unallocated -= from_credit
    payment.save(update_fields=["unallocated"])
    refund = Refund.objects.create(
        partner_id=payment.partner_id, customer_id=payment.customer_id, payment=payment, amount=amount,
        currency=currency, refunded_on=refunded_on, reference=reference.strip(), reason=reason,
        from_invoices={number: str(share) for number, share in from_invoices.items()}, recorded_by=actor,
    )  # fmt: skip
    audit_record(
        partner=payment.partner, customer=payment.customer, actor=actor, action="payment.refunded", target=payment,
        data={
            "amount": str(amount), "refunded_on": refunded_on.isoformat(), "reference": refund.reference,
            "reason": reason, "from_invoices": refund.from_invoices, "from_credit": str(from_credit),
            "credited": credit_invoices and bool(reopened),
        },
    )  # fmt: skip
    if credit_invoices:
        for invoice, share in reopened:
            credit_note_issue(invoice=invoice, actor=actor, amount=share, reason=reason)
    elif reopened:
        invoices_reopened(customer=payment.customer, actor=actor)
    return refund
