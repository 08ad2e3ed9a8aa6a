"""check_ledger: a clean ledger passes; each kind of corruption, written behind the services' back,
is reported with its partner, document, expected and found figures, and exits 1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from billing.invoicing.services import RefundSource, credit_note_issue, payment_record, refund_record
from tests.conftest import Tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db


def check_ledger(*args: str) -> str:
    """The command's output; raises CommandError (exit 1) on differences, with the output attached."""
    out = StringIO()
    try:
        call_command("check_ledger", *args, stdout=out)
    except CommandError as exc:
        exc.output = out.getvalue()  # type: ignore[attr-defined]
        raise
    return out.getvalue()


def failing(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        check_ledger(*args)
    return caught.value.output  # type: ignore[attr-defined]


def raw(sql: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def ledger(tenant: Tenant) -> dict[str, object]:
    """An invoice paid in part, one credited, one paid with money left over as credit."""
    first = issued(tenant.customer, line("Licences", "3", "33.33", "20"), on=dt.date(2026, 10, 1))  # 99.99 + 20.00
    second = issued(tenant.customer, line("Support", "1", "50.00", "0"), on=dt.date(2026, 10, 2))
    payment = payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=Decimal("200.00"),
        received_on=dt.date(2026, 11, 5), reference="BACS 1",
    )  # fmt: skip
    third = issued(tenant.customer, line("Usage", "1", "80.00", "0"), on=dt.date(2026, 11, 6))
    note = credit_note_issue(invoice=third, actor=tenant.finance, amount=Decimal("10.00"), reason="Outage")
    return {"first": first, "second": second, "third": third, "payment": payment, "note": note}


def test_a_clean_ledger_passes_with_a_one_line_summary(tenant: Tenant, other_tenant: Tenant, ledger) -> None:
    issued(other_tenant.customer, line("Other", "1", "10.00", "0"))
    out = check_ledger()
    assert out.strip() == "Ledger consistent: 4 invoices, 1 payments, no differences."
    assert "3 invoices" in check_ledger("--partner", tenant.partner.slug)


def test_an_unknown_partner_is_refused() -> None:
    with pytest.raises(CommandError, match="no partner with slug 'nobody'"):
        check_ledger("--partner", "nobody")


def test_a_subtotal_and_total_that_disagree_with_the_lines_are_reported(tenant: Tenant, ledger) -> None:
    first = ledger["first"]
    # Subtotal and total moved together (the table's own check holds), balance with them.
    raw(
        "UPDATE billing_invoice SET subtotal = subtotal + 1, total = total + 1, balance = balance + 1 WHERE id = %s",
        first.pk,
    )
    out = failing()
    assert f"{tenant.partner.slug}: invoice {first.number}: subtotal expected 99.99, found 100.99" in out
    assert f"invoice {first.number}: total expected 119.99, found 120.99" in out
    assert "balance" not in out  # the balance follows the stored total: only the totals are wrong


def test_a_tax_that_disagrees_with_the_lines_is_reported(tenant: Tenant, ledger) -> None:
    first = ledger["first"]
    raw(
        "UPDATE billing_invoice SET tax_total = 19.99, total = 119.98, balance = balance - 0.01 WHERE id = %s",
        first.pk,
    )
    out = failing()
    assert f"invoice {first.number}: tax expected 20.00, found 19.99" in out


def test_a_balance_that_disagrees_with_allocations_and_credit_notes_is_reported(tenant: Tenant, ledger) -> None:
    third = ledger["third"]
    # The note's own net + VAT = amount is a database constraint, so both move.
    raw("UPDATE billing_creditnote SET amount = 15.00, net_amount = net_amount + 5.00 WHERE id = %s", ledger["note"].pk)
    out = failing()
    assert f"invoice {third.number}: amount credited expected 15.00, found 10.00" in out
    assert f"invoice {third.number}: balance expected 34.99, found 39.99" in out


def test_an_allocation_changed_behind_the_services_back_is_reported(tenant: Tenant, ledger) -> None:
    second, payment = ledger["second"], ledger["payment"]
    raw(
        "UPDATE billing_paymentallocation SET amount = 40.00 WHERE invoice_id = %s AND payment_id = %s",
        second.pk,
        payment.pk,
    )
    out = failing()
    assert f"invoice {second.number}: amount paid expected 40.00, found 50.00" in out
    assert f"payment #{payment.pk} (BACS 1): allocated, unallocated and refunded expected 200.00, found 190.00" in out
    assert "(USD): credit expected 10.00, found 0.00" in out  # nor does the customer's credit


def test_a_payment_amount_that_disagrees_with_its_allocations_is_reported(tenant: Tenant, ledger) -> None:
    payment = ledger["payment"]
    raw("UPDATE billing_payment SET amount = 250.00 WHERE id = %s", payment.pk)
    out = failing("--partner", tenant.partner.slug)
    assert f"payment #{payment.pk} (BACS 1): allocated, unallocated and refunded expected 250.00, found 200.00" in out


def test_customer_credit_that_disagrees_with_its_sources_is_reported(tenant: Tenant, ledger) -> None:
    payment = ledger["payment"]
    payment.refresh_from_db()
    assert payment.unallocated == Decimal("0.00")  # the third invoice used the credit; make some up
    raw("UPDATE billing_payment SET unallocated = 5.00 WHERE id = %s", payment.pk)
    out = failing()
    assert f"customer #{tenant.customer.pk} {tenant.customer.name} (USD): credit expected 0.00, found 5.00" in out


def test_another_partners_corruption_is_not_reported_for_this_partner(tenant: Tenant, other_tenant: Tenant, ledger):
    theirs = issued(other_tenant.customer, line("Other", "1", "10.00", "0"))
    raw("UPDATE billing_invoice SET amount_paid = 1.00, balance = 9.00 WHERE id = %s", theirs.pk)
    assert "no differences" in check_ledger("--partner", tenant.partner.slug)
    assert f"{other_tenant.partner.slug}: invoice {theirs.number}: amount paid expected 0.00" in failing()


def test_a_refund_changed_behind_the_services_back_is_reported(tenant: Tenant, ledger) -> None:
    payment = ledger["payment"]
    second = ledger["second"]
    allocation = payment.allocations.get(invoice=second)
    refund = refund_record(
        payment=payment, actor=None, amount=Decimal("5.00"), refunded_on=dt.date(2026, 11, 6), reason="Dispute",
        sources=[RefundSource(allocation=allocation, amount=Decimal("5.00"))],
    )  # fmt: skip
    assert "no differences" in check_ledger()
    raw("UPDATE billing_refund SET amount = 7.00 WHERE id = %s", refund.pk)
    out = failing()
    assert f"payment #{payment.pk} (BACS 1): allocated, unallocated and refunded expected 200.00, found 202.00" in out
    assert "(USD): credit expected -2.00, found 0.00" in out
