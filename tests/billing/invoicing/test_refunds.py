"""Refunds: from the payment's credit, or from allocations finance names (the invoice owes that part
again, or is credited at once); never more than is left of the payment; dated between the payment and
today; audited; the same through the page and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from billing.invoicing.errors import PaymentCorrectionInvalid, PaymentHasRefunds, PaymentVoided
from billing.invoicing.models import CreditNote, Invoice, Payment, PaymentAllocation, Refund
from billing.invoicing.services import RefundSource, payment_record, payment_void, refund_record
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories.billing import assert_ledger_consistent, issued, line

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)
NOV_5 = dt.date(2026, 11, 5)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen(TODAY):
        yield


def fresh(obj):
    obj.refresh_from_db()
    return obj


def pay(tenant: Tenant, amount: str) -> Payment:
    return payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=Decimal(amount),
        received_on=NOV_5, reference="BACS 9",
    )  # fmt: skip


def refund(payment: Payment, amount: str, *, sources=(), on=TODAY, credit=False, reason="Overpaid") -> Refund:
    return refund_record(
        payment=payment, actor=None, amount=Decimal(amount), refunded_on=on, reason=reason, reference="OUT 1",
        sources=sources, credit_invoices=credit,
    )  # fmt: skip


@pytest.fixture
def overpaid(tenant: Tenant) -> tuple[Invoice, Payment]:
    invoice = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    return invoice, pay(tenant, "130.01")  # 100.00 to the invoice, 30.01 credit


def test_an_overpayment_is_refunded_from_the_credit_and_the_invoice_stays_paid(tenant: Tenant, overpaid) -> None:
    invoice, payment = overpaid
    made = refund(payment, "30.01")
    assert (fresh(payment).unallocated, fresh(invoice).status) == (Decimal("0.00"), Invoice.Status.PAID)
    assert (made.amount, made.currency, made.customer, made.from_invoices) == (
        Decimal("30.01"), "USD", tenant.customer, {},
    )  # fmt: skip
    event = AuditEvent.objects.get(action="payment.refunded")
    assert event.data["from_credit"] == "30.01"
    assert event.data["reason"] == "Overpaid"
    assert_ledger_consistent()


def test_allocated_money_is_not_refunded_without_naming_the_invoice(tenant: Tenant, overpaid) -> None:
    _, payment = overpaid
    with pytest.raises(PaymentCorrectionInvalid, match=r"Only 30\.01 of this payment is unused credit"):
        refund(payment, "30.02")
    assert not Refund.objects.exists()


def test_a_refund_from_an_invoice_reopens_it_for_that_part_and_keeps_the_history(tenant: Tenant, overpaid) -> None:
    invoice, payment = overpaid
    original = PaymentAllocation.objects.get(payment=payment)
    made = refund(payment, "40.01", sources=[RefundSource(allocation=original, amount=Decimal("10.00"))])
    invoice = fresh(invoice)
    assert (invoice.status, invoice.amount_paid, invoice.balance) == (
        Invoice.Status.PARTIALLY_PAID, Decimal("90.00"), Decimal("10.00"),
    )  # fmt: skip
    assert fresh(payment).unallocated == Decimal("0.00")  # 10.00 off the invoice, 30.01 from the credit
    rows = PaymentAllocation.objects.filter(payment=payment).order_by("pk")
    assert [(a.amount, a.is_reversed) for a in rows] == [(Decimal("100.00"), True), (Decimal("90.00"), False)]
    assert made.from_invoices == {invoice.number: "10.00"}
    assert_ledger_consistent()


def test_a_disputed_paid_invoice_is_refunded_and_credited_so_nothing_is_owed(tenant: Tenant, overpaid) -> None:
    invoice, payment = overpaid
    allocation = PaymentAllocation.objects.get(payment=payment)
    refund(payment, "100.00", sources=[RefundSource(allocation=allocation, amount=Decimal("100.00"))], credit=True)
    invoice = fresh(invoice)
    assert (invoice.status, invoice.amount_paid, invoice.amount_credited, invoice.balance) == (
        Invoice.Status.PAID, Decimal("0.00"), Decimal("100.00"), Decimal("0.00"),
    )  # fmt: skip
    note = CreditNote.objects.get(invoice=invoice)
    assert (note.amount, note.reason) == (Decimal("100.00"), "Overpaid")
    assert fresh(payment).unallocated == Decimal("30.01")  # the credit is still there
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("amount", "on", "field", "message"),
    [
        ("0.00", TODAY, "amount", "above zero"),
        ("1.001", TODAY, "amount", "above zero"),
        ("130.02", TODAY, "amount", "more than what is left of the payment (130.01)"),
        ("1.00", TODAY + dt.timedelta(days=1), "refunded_on", "between the payment's date"),
        ("1.00", NOV_5 - dt.timedelta(days=1), "refunded_on", "between the payment's date"),
    ],
)
def test_amount_and_date_are_bounded(tenant: Tenant, overpaid, amount: str, on, field: str, message: str) -> None:
    _, payment = overpaid
    with pytest.raises(PaymentCorrectionInvalid, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
        refund(payment, amount, on=on)
    assert list(refused.value.fields) == [field]


def test_what_was_refunded_is_no_longer_refundable_and_blocks_a_void(tenant: Tenant, overpaid) -> None:
    _, payment = overpaid
    refund(payment, "20.00")
    with pytest.raises(PaymentCorrectionInvalid, match=r"left of the payment \(110.01\)"):
        refund(payment, "110.02")
    with pytest.raises(PaymentHasRefunds):
        payment_void(payment=payment, actor=None, reason="Bounced")


def test_a_voided_payment_is_not_refunded(tenant: Tenant, overpaid) -> None:
    _, payment = overpaid
    payment_void(payment=payment, actor=None, reason="Bounced")
    with pytest.raises(PaymentVoided):
        refund(payment, "1.00")


def test_another_payments_allocation_cannot_be_named(tenant: Tenant, overpaid) -> None:
    _, payment = overpaid
    other_invoice = issued(tenant.customer, line("Nov", "1", "50.00", "0"), on=dt.date(2026, 11, 1))
    other = pay(tenant, "50.00")
    foreign = PaymentAllocation.objects.get(payment=other, invoice=other_invoice)
    with pytest.raises(PaymentCorrectionInvalid, match="own allocations"):
        refund(payment, "10.00", sources=[RefundSource(allocation=foreign, amount=Decimal("10.00"))])


# ---- Page and API ------------------------------------------------------------------------------------


def test_finance_refunds_from_the_payment_page(tenant: Tenant, overpaid, client_for) -> None:
    invoice, payment = overpaid
    allocation = PaymentAllocation.objects.get(payment=payment)
    client = client_for(tenant.finance)
    assert (
        f"/staff/billing/payments/{payment.pk}/refund/"
        in client.get(f"/staff/billing/payments/{payment.pk}/").content.decode()
    )
    form = client.get(f"/staff/billing/payments/{payment.pk}/refund/")
    assert f"from_{allocation.pk}" in form.content.decode()
    too_much = client.post(
        f"/staff/billing/payments/{payment.pk}/refund/",
        {"amount": "50.00", "refunded_on": "2026-11-20", "reason": "Overpaid"},
    )
    assert too_much.status_code == 400
    assert "Only 30.01" in too_much.content.decode()
    done = client.post(
        f"/staff/billing/payments/{payment.pk}/refund/",
        {"amount": "50.00", "refunded_on": "2026-11-20", "reason": "Overpaid", f"from_{allocation.pk}": "19.99"},
        follow=True,
    )
    html = done.content.decode()
    assert "Refund of 50.00 USD recorded." in html
    assert "Payment refunded" in html
    assert fresh(invoice).balance == Decimal("19.99")
    assert client_for(tenant.agent).get(f"/staff/billing/payments/{payment.pk}/refund/").status_code == 403


def test_the_api_refunds_and_answers_400_with_the_field(tenant: Tenant, other_tenant, overpaid, api_for) -> None:
    invoice, payment = overpaid
    url = f"/api/v1/payments/{payment.pk}/refunds/"
    api = api_for(tenant.finance)
    bad_date = api.post(url, {"amount": "5.00", "refunded_on": "2026-12-31", "reason": "x"}, format="json")
    assert bad_date.status_code == 400
    assert "refunded_on" in bad_date.json()["fields"]
    not_paid_here = api.post(
        url, {"amount": "5.00", "refunded_on": "2026-11-20", "reason": "x", "sources": [{"invoice": 999999, "amount": "5.00"}]},
        format="json",
    )  # fmt: skip
    assert not_paid_here.status_code == 400
    assert "sources" in not_paid_here.json()["fields"]
    assert api_for(other_tenant.finance).post(url, {}, format="json").status_code == 404
    done = api.post(
        url,
        {"amount": "35.01", "refunded_on": "2026-11-20", "reason": "Dispute", "sources": [{"invoice": invoice.pk, "amount": "5.00"}]},
        format="json",
    )  # fmt: skip
    assert done.status_code == 201, done.json()
    assert done.json()["from_invoices"] == {invoice.number: "5.00"}
    detail = api.get(f"/api/v1/payments/{payment.pk}/").json()
    assert [r["amount"] for r in detail["refunds"]] == ["35.01"]
    assert fresh(invoice).balance == Decimal("5.00")
