"""An invoice's row-level truths: open, overdue on a day, the status its balance calls for.

Invoice.is_overdue(on) and InvoiceQuerySet.overdue(on) are the Python and SQL forms of one rule; the
last test checks that they pick the same invoices.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.invoicing.models import Invoice
from billing.invoicing.services import credit_note_issue, invoice_void, payment_record
from tests.conftest import Tenant
from tests.factories.billing import draft, issued, line

pytestmark = pytest.mark.django_db

ISSUED_ON = dt.date(2026, 11, 2)


def _pay(invoice: Invoice, amount: str) -> Invoice:
    payment_record(
        partner=invoice.partner, customer=invoice.customer, actor=None, amount=Decimal(amount),
        received_on=ISSUED_ON, allocations=None,
    )  # fmt: skip
    invoice.refresh_from_db()
    return invoice


def _one_hundred(tenant: Tenant) -> Invoice:
    return issued(tenant.customer, line("Support", "1", "100.00", "0"), on=ISSUED_ON)


def test_only_issued_and_partially_paid_invoices_are_open(tenant: Tenant) -> None:
    assert draft(tenant.customer).is_open is False
    invoice = _one_hundred(tenant)
    assert invoice.status == Invoice.Status.ISSUED
    assert invoice.is_open is True
    invoice = _pay(invoice, "40.00")
    assert invoice.status == Invoice.Status.PARTIALLY_PAID
    assert invoice.is_open is True
    invoice = _pay(invoice, "60.00")
    assert invoice.status == Invoice.Status.PAID
    assert invoice.is_open is False
    voided = invoice_void(invoice=_one_hundred(tenant), actor=None, reason="Entered twice")
    assert voided.is_open is False


def test_an_open_invoice_is_overdue_from_the_day_after_its_due_date(tenant: Tenant) -> None:
    invoice = _one_hundred(tenant)
    assert invoice.due_date is not None
    due = invoice.due_date
    assert invoice.is_overdue(due - dt.timedelta(days=1)) is False
    assert invoice.is_overdue(due) is False  # due today, not overdue yet
    assert invoice.is_overdue(due + dt.timedelta(days=1)) is True
    paid = _pay(invoice, "100.00")
    assert paid.is_overdue(due + dt.timedelta(days=30)) is False


def test_a_draft_or_a_void_invoice_is_never_overdue(tenant: Tenant) -> None:
    late = dt.date(2030, 1, 1)
    assert draft(tenant.customer).is_overdue(late) is False
    voided = invoice_void(invoice=_one_hundred(tenant), actor=None, reason="Entered twice")
    assert voided.is_overdue(late) is False


def test_the_settled_status_follows_the_balance(tenant: Tenant) -> None:
    invoice = _one_hundred(tenant)
    assert invoice.settled_status() == Invoice.Status.ISSUED
    invoice.balance = Decimal("0.01")
    assert invoice.settled_status() == Invoice.Status.PARTIALLY_PAID
    invoice.balance = Decimal("0.00")
    assert invoice.settled_status() == Invoice.Status.PAID
    invoice.balance = Decimal("-1.00")
    assert invoice.settled_status() == Invoice.Status.PAID
    invoice.balance = invoice.total
    assert invoice.settled_status() == Invoice.Status.ISSUED


def test_payments_and_credit_notes_set_the_settled_status(tenant: Tenant) -> None:
    invoice = _pay(_one_hundred(tenant), "30.00")
    assert invoice.status == invoice.settled_status() == Invoice.Status.PARTIALLY_PAID
    credit_note_issue(invoice=invoice, actor=None, amount=Decimal("70.00"), reason="Returned licences")
    invoice.refresh_from_db()
    assert invoice.status == invoice.settled_status() == Invoice.Status.PAID


def test_python_and_sql_agree_on_overdue(tenant: Tenant, other_tenant: Tenant) -> None:
    customer = tenant.customer
    invoices = [
        draft(customer),
        issued(customer, on=dt.date(2026, 9, 1)),
        issued(customer, on=dt.date(2026, 10, 1)),
        issued(customer, on=dt.date(2026, 11, 1)),
        _pay(issued(customer, line("Half", "1", "10.00", "0"), on=dt.date(2026, 10, 15)), "5.00"),
        invoice_void(invoice=issued(customer, on=dt.date(2026, 9, 15)), actor=None, reason="Entered twice"),
        issued(other_tenant.customer, on=dt.date(2026, 10, 1)),
    ]
    _pay(issued(customer, line("Paid", "1", "10.00", "0"), on=dt.date(2026, 9, 1)), "10.00")
    days = [dt.date(2026, 9, 1) + dt.timedelta(days=n) for n in range(0, 120, 3)]
    assert any(i.due_date for i in invoices)
    everything = list(Invoice.objects.order_by("pk"))
    seen_overdue = seen_not_overdue = False
    for day in days:
        in_python = {i.pk for i in everything if i.is_overdue(day)}
        in_sql = set(Invoice.objects.overdue(day).values_list("pk", flat=True))
        assert in_python == in_sql, day
        seen_overdue |= bool(in_python)
        seen_not_overdue |= len(in_python) < len(everything)
    assert seen_overdue
    assert seen_not_overdue
    assert {i.pk for i in everything if i.is_open} == set(Invoice.objects.open().values_list("pk", flat=True))
