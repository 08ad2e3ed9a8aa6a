"""Payments and credit notes: allocation to named or oldest invoices, customer credit, statuses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.invoicing.errors import AllocationInvalid, CreditNoteInvalid
from billing.invoicing.models import CreditNote, Invoice, Payment, PaymentAllocation
from billing.invoicing.services import AllocationInput, credit_note_issue, payment_record
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories import CustomerFactory, PartnerFactory
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db
NOV_5 = dt.date(2026, 11, 5)


def pay(tenant: Tenant, amount: str, allocations=None, customer=None) -> Payment:
    return payment_record(
        partner=tenant.partner, customer=customer or tenant.customer, actor=tenant.finance,
        amount=Decimal(amount), received_on=NOV_5, reference="BACS 7781", allocations=allocations,
    )  # fmt: skip


def test_without_allocations_the_oldest_open_invoices_are_paid_first(tenant: Tenant) -> None:
    october = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    november = issued(tenant.customer, line("Nov", "1", "100.00", "0"), on=dt.date(2026, 11, 1))
    payment = pay(tenant, "150.00")
    october.refresh_from_db()
    november.refresh_from_db()
    assert (october.status, october.balance) == (Invoice.Status.PAID, Decimal("0.00"))
    assert (november.status, november.balance, november.amount_paid) == (
        Invoice.Status.PARTIALLY_PAID,
        Decimal("50.00"),
        Decimal("50.00"),
    )
    assert payment.unallocated == Decimal("0.00")
    event = AuditEvent.objects.get(action="payment.recorded")
    assert event.data["allocated"] == {october.number: "100.00", november.number: "50.00"}


def test_named_allocations_go_exactly_where_finance_says(tenant: Tenant) -> None:
    october = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    november = issued(tenant.customer, line("Nov", "1", "100.00", "0"))
    payment = pay(tenant, "100.00", [AllocationInput(invoice=november, amount=Decimal("60.00"))])
    october.refresh_from_db()
    november.refresh_from_db()
    assert october.balance == Decimal("100.00")
    assert november.balance == Decimal("40.00")
    assert payment.unallocated == Decimal("40.00")  # the rest is credit


def test_overpayment_becomes_credit_that_the_next_invoice_uses(tenant: Tenant) -> None:
    issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    payment = pay(tenant, "130.00")
    assert payment.unallocated == Decimal("30.00")
    next_invoice = issued(tenant.customer, line("Nov", "1", "50.00", "0"))
    assert (next_invoice.amount_paid, next_invoice.balance, next_invoice.status) == (
        Decimal("30.00"), Decimal("20.00"), Invoice.Status.PARTIALLY_PAID,
    )  # fmt: skip
    payment.refresh_from_db()
    assert payment.unallocated == Decimal("0.00")
    assert AuditEvent.objects.filter(action="credit.applied").count() == 1


@pytest.mark.parametrize(
    ("amount", "share", "message"),
    [
        ("50.00", "60.00", "more than the payment"),
        ("500.00", "432.01", "balance"),
        ("50.00", "0.00", "between 0"),
        ("50.001", "50.00", "decimal places"),
        ("-5.00", None, "more than zero"),
    ],
)
def test_bad_payments_are_refused_whole(tenant: Tenant, amount: str, share: str | None, message: str) -> None:
    invoice = issued(tenant.customer)
    allocations = [AllocationInput(invoice=invoice, amount=Decimal(share))] if share else None
    with pytest.raises(AllocationInvalid, match=message):
        pay(tenant, amount, allocations)
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("432.00")


def test_an_allocation_to_another_customers_invoice_is_refused(tenant: Tenant) -> None:
    foreign = issued(tenant.other_customer)
    with pytest.raises(AllocationInvalid, match="does not belong"):
        pay(tenant, "10.00", [AllocationInput(invoice=foreign, amount=Decimal("10.00"))])
    assert not Payment.objects.exists()


def test_a_credit_note_reduces_the_balance_with_its_own_number(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    with clock.frozen(dt.date(2026, 11, 20)):
        note = credit_note_issue(
            invoice=invoice,
            actor=tenant.finance,
            amount=Decimal("32.00"),
            reason="Two licences cancelled in the grace period",
        )
    invoice.refresh_from_db()
    assert note.number == "CN-2026-000001"
    assert note.invoice_balance_after == Decimal("400.00")  # the document keeps saying so after payment
    assert (invoice.amount_credited, invoice.balance, invoice.status) == (
        Decimal("32.00"),
        Decimal("400.00"),
        Invoice.Status.PARTIALLY_PAID,
    )
    pay(tenant, "400.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    with pytest.raises(CreditNoteInvalid):
        credit_note_issue(invoice=invoice, actor=None, amount=Decimal("1.00"), reason="too late")
    assert CreditNote.objects.count() == 1


@pytest.mark.parametrize(("amount", "reason"), [("432.01", "x"), ("0", "x"), ("1.005", "x"), ("1.00", " ")])
def test_bad_credit_notes_are_refused(tenant: Tenant, amount: str, reason: str) -> None:
    invoice = issued(tenant.customer)
    with pytest.raises(CreditNoteInvalid):
        credit_note_issue(invoice=invoice, actor=None, amount=Decimal(amount), reason=reason)
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("432.00")


cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c) / 100)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invoice_totals=st.lists(cents, min_size=1, max_size=5), payments=st.lists(cents, min_size=1, max_size=5))
def test_allocation_never_creates_or_loses_a_cent(
    db: None, invoice_totals: list[Decimal], payments: list[Decimal]
) -> None:
    customer = CustomerFactory(partner=PartnerFactory())
    for n, total in enumerate(invoice_totals):
        issued(customer, line(f"Line {n}", "1", str(total), "0"), on=dt.date(2026, 1, 1) + dt.timedelta(days=n))
    for amount in payments:
        payment_record(partner=customer.partner, customer=customer, actor=None, amount=amount, received_on=NOV_5)
    invoices = list(Invoice.objects.filter(customer=customer))
    recorded = list(Payment.objects.filter(customer=customer))
    allocated = sum((a.amount for a in PaymentAllocation.objects.filter(invoice__customer=customer)), Decimal(0))
    # Every cent paid is either on an invoice or the customer's credit; nothing appears or vanishes.
    assert sum((p.amount for p in recorded), Decimal(0)) == allocated + sum(
        (p.unallocated for p in recorded), Decimal(0)
    )
    assert sum((i.amount_paid for i in invoices), Decimal(0)) == allocated
    for invoice in invoices:
        assert invoice.balance == invoice.total - invoice.amount_paid >= 0
    # Credit is left only when every invoice is paid.
    if any(p.unallocated for p in recorded):
        assert all(i.status == Invoice.Status.PAID for i in invoices)


def test_money_never_crosses_currencies(tenant: Tenant) -> None:
    dollars = issued(tenant.customer)  # USD
    tenant.customer.currency = "EUR"  # the customer is billed in euros from now on
    tenant.customer.save()
    with pytest.raises(AllocationInvalid, match="in USD"):
        pay(tenant, "10.00", [AllocationInput(invoice=dollars, amount=Decimal("10.00"))])
    euro_payment = pay(tenant, "50.00")  # oldest first: only euro invoices, so it all stays as credit
    dollars.refresh_from_db()
    assert (dollars.balance, euro_payment.unallocated) == (Decimal("432.00"), Decimal("50.00"))
    euros = issued(tenant.customer, line("EUR line", "1", "80.00", "0"))
    assert (euros.currency, euros.amount_paid, euros.balance) == ("EUR", Decimal("50.00"), Decimal("30.00"))
