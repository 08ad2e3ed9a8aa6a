"""A payment cannot be received before the invoice it pays was issued (nor in the future): the service
refuses, and the page and the API give the same refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.invoicing.errors import AllocationInvalid
from billing.invoicing.models import Invoice, Payment
from billing.invoicing.services import AllocationInput, payment_record
from partner_portal import clock
from tests.conftest import Tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db

ISSUED = dt.date(2026, 11, 30)
REFUSAL = "A payment of invoice {number} cannot be received before it was issued on Nov 30, 2026."


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)):
        yield


def _invoice(tenant: Tenant) -> Invoice:
    return issued(tenant.customer, line("Microsoft 365 E3", "1", "258.00", "0"), on=ISSUED)


def test_a_payment_dated_before_the_invoice_was_issued_is_refused(tenant: Tenant) -> None:
    invoice = _invoice(tenant)
    with pytest.raises(AllocationInvalid) as refused:
        payment_record(
            partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("258.00"),
            received_on=dt.date(1999, 1, 1), allocations=[AllocationInput(invoice=invoice, amount=Decimal("258.00"))],
        )  # fmt: skip
    assert str(refused.value) == REFUSAL.format(number=invoice.number)
    assert refused.value.fields == {"received_on": [str(refused.value)]}
    assert not Payment.objects.exists()
    payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("258.00"), received_on=ISSUED,
        allocations=[AllocationInput(invoice=invoice, amount=Decimal("258.00"))],
    )  # fmt: skip
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_paid_oldest_first_a_payment_pays_only_invoices_issued_by_its_date(tenant: Tenant) -> None:
    invoice = _invoice(tenant)
    payment = payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=None, amount=Decimal("100.00"),
        received_on=dt.date(2026, 11, 29),
    )  # fmt: skip
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("258.00")
    assert payment.unallocated == Decimal("100.00")  # kept as credit


def test_the_payment_page_gives_the_same_refusal(tenant: Tenant, client_for) -> None:
    invoice = _invoice(tenant)
    response = client_for(tenant.finance).post(
        f"/staff/billing/payments/new/?invoice={invoice.pk}",
        {
            "amount": "258.00", "received_on": "1999-01-01", "method": "bank_transfer", "reference": "BACS 42",
            "allocation": "invoice", "invoice": str(invoice.pk), "invoice_amount": "",
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["received_on"] == [REFUSAL.format(number=invoice.number)]
    assert not Payment.objects.exists()


def test_the_api_gives_the_same_refusal(tenant: Tenant, api_for) -> None:
    invoice = _invoice(tenant)
    response = api_for(tenant.finance).post(
        "/api/v1/payments/",
        {"customer": tenant.customer.pk, "amount": "258.00", "received_on": "1999-01-01",
         "allocations": [{"invoice": invoice.pk, "amount": "258.00"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["detail"] == REFUSAL.format(number=invoice.number)
    assert response.json()["fields"]["received_on"] == [REFUSAL.format(number=invoice.number)]
