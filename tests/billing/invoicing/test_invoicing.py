"""Invoices: line rounding and totals, drafts, issuing with gapless numbers, immutability, voiding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.invoicing.errors import InvoiceHasSettlements, InvoiceNotEditable
from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services import (
    invoice_draft_delete,
    invoice_draft_update,
    invoice_issue,
    invoice_void,
    line_amounts,
    payment_record,
)
from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories.billing import draft, issued, line

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("quantity", "unit_price", "rate", "currency", "amount", "tax"),
    [
        ("3", "19.99", "20.00", "USD", "59.97", "11.99"),  # 11.994 -> 11.99
        ("1", "0.125", "0", "USD", "0.13", "0.00"),  # half-up: 0.125 -> 0.13 (half-even would give 0.12)
        ("1", "10.00", "17.5", "GBP", "10.00", "1.75"),
        ("2.5", "33.333", "20", "EUR", "83.33", "16.67"),  # 83.3325 -> 83.33; 16.666 -> 16.67
        ("7", "1234.5", "10", "JPY", "8642", "864"),  # no minor unit: 8641.5 -> 8642, 864.2 -> 864
    ],
)
def test_each_line_is_rounded_once_half_up(quantity, unit_price, rate, currency, amount, tax) -> None:
    got = line_amounts(
        quantity=Decimal(quantity), unit_price=Decimal(unit_price), tax_rate=Decimal(rate), currency=currency
    )
    assert got == (Decimal(amount), Decimal(tax))


def test_totals_are_the_sum_of_the_rounded_lines(tenant: Tenant) -> None:
    invoice = draft(
        tenant.customer,
        line("Microsoft 365 E3", "3", "19.99", "20"),
        line("Azure plan usage", "1", "0.125", "20"),
        line("Support hours", "1.5", "95.00", "0"),
    )
    assert [(x.amount, x.tax_amount) for x in invoice.lines.all()] == [
        (Decimal("59.97"), Decimal("11.99")),
        (Decimal("0.13"), Decimal("0.03")),
        (Decimal("142.50"), Decimal("0.00")),
    ]
    assert (invoice.subtotal, invoice.tax_total, invoice.total, invoice.balance) == (
        Decimal("202.60"), Decimal("12.02"), Decimal("214.62"), Decimal("214.62"),
    )  # fmt: skip
    assert invoice.currency == tenant.customer.currency
    assert invoice.number == ""
    assert invoice.status == Invoice.Status.DRAFT


def test_drafts_change_freely_and_take_no_number(tenant: Tenant) -> None:
    invoice = draft(tenant.customer)
    invoice = invoice_draft_update(
        invoice=invoice, actor=tenant.finance, lines=[line("Changed", "1", "5.00", "0")], notes="Thanks"
    )
    assert invoice.total == Decimal("5.00")
    assert list(invoice.lines.values_list("description", flat=True)) == ["Changed"]
    assert invoice.notes == "Thanks"
    assert invoice.number == ""


def test_issuing_numbers_dates_and_audits(tenant: Tenant) -> None:
    tenant.customer.credit_days = 14
    tenant.customer.save()
    invoice = invoice_issue(invoice=draft(tenant.customer), actor=tenant.finance, issue_date=dt.date(2026, 11, 20))
    assert invoice.number == "INV-2026-000001"
    assert invoice.status == Invoice.Status.ISSUED
    assert (invoice.issue_date, invoice.due_date) == (dt.date(2026, 11, 20), dt.date(2026, 12, 4))
    event = AuditEvent.objects.get(action="invoice.issued")
    assert event.actor == tenant.finance
    assert event.data["number"] == "INV-2026-000001"


def test_numbers_are_consecutive_per_partner_and_year(tenant: Tenant, other_tenant: Tenant) -> None:
    first = issued(tenant.customer)
    draft(tenant.customer)  # a draft takes nothing
    second = issued(tenant.other_customer)
    elsewhere = issued(other_tenant.customer)
    next_year = issued(tenant.customer, on=dt.date(2027, 1, 2))
    assert [first.number, second.number, elsewhere.number, next_year.number] == [
        "INV-2026-000001", "INV-2026-000002", "INV-2026-000001", "INV-2027-000001",
    ]  # fmt: skip


def test_a_rolled_back_issue_gives_its_number_back(tenant: Tenant) -> None:
    invoice = draft(tenant.customer)

    def issue_then_fail() -> None:
        with transaction.atomic():
            invoice_issue(invoice=invoice, actor=None, issue_date=dt.date(2026, 11, 3))
            raise RuntimeError("the request failed after issuing")

    with pytest.raises(RuntimeError):
        issue_then_fail()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.DRAFT
    assert issued(tenant.customer).number == "INV-2026-000001"


def test_issuing_twice_keeps_the_first_number(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    again = invoice_issue(invoice=invoice, actor=None, issue_date=dt.date(2026, 12, 1))
    assert again.number == invoice.number == "INV-2026-000001"
    assert AuditEvent.objects.filter(action="invoice.issued").count() == 1


def test_an_issued_invoice_is_immutable(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    with pytest.raises(InvoiceNotEditable):
        invoice_draft_update(invoice=invoice, actor=None, lines=[line("Sneaky", "1", "1.00", "0")])
    invoice.refresh_from_db()
    assert invoice.total == Decimal("432.00")
    assert list(invoice.lines.values_list("description", flat=True)) == ["Microsoft 365 E3"]


def test_a_draft_is_deleted_with_its_lines_and_audited(tenant: Tenant) -> None:
    gone = draft(tenant.customer, line("Seats", "2", "10.00", "0"))
    invoice_draft_delete(invoice=gone, actor=tenant.finance)
    assert not Invoice.objects.filter(pk=gone.pk).exists()
    assert not InvoiceLine.objects.filter(invoice_id=gone.pk).exists()
    event = AuditEvent.objects.get(action="invoice.draft_deleted")
    assert (event.actor, event.data["total"]) == (tenant.finance, "20.00")


def test_an_issued_invoice_is_not_deleted(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    with pytest.raises(InvoiceNotEditable):
        invoice_draft_delete(invoice=invoice, actor=tenant.finance)
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert not AuditEvent.objects.filter(action="invoice.draft_deleted").exists()


def test_the_database_refuses_totals_that_do_not_add_up(tenant: Tenant) -> None:
    invoice = draft(tenant.customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(balance=Decimal("1.00"))


def test_void_keeps_the_number_and_clears_the_balance(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    voided = invoice_void(invoice=invoice, actor=tenant.finance, reason="Duplicate of the October invoice")
    assert (voided.status, voided.number, voided.balance) == (Invoice.Status.VOID, "INV-2026-000001", Decimal("0.00"))
    assert issued(tenant.customer).number == "INV-2026-000002"
    assert AuditEvent.objects.get(action="invoice.voided").data["reason"] == "Duplicate of the October invoice"


def test_void_is_refused_once_money_moved(tenant: Tenant) -> None:
    invoice = issued(tenant.customer)
    payment_record(
        partner=tenant.partner,
        customer=tenant.customer,
        actor=None,
        amount=Decimal("10.00"),
        received_on=dt.date(2026, 11, 5),
    )
    with pytest.raises(InvoiceHasSettlements):
        invoice_void(invoice=invoice, actor=None, reason="oops")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID


def test_void_needs_a_reason_and_an_issued_invoice(tenant: Tenant) -> None:
    with pytest.raises(InvoiceNotEditable):
        invoice_void(invoice=draft(tenant.customer), actor=None, reason="x")
    invoice = issued(tenant.customer)
    with pytest.raises(InvoiceNotEditable):
        invoice_void(invoice=invoice, actor=None, reason="  ")
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1
