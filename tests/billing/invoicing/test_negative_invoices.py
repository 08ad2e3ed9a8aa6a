"""Negative amounts: a negative line is a discount inside an invoice that comes to zero or more. A
negative total is refused by the service, alike on the page and through the API, and nothing changes;
money owed back is a credit note. An invoice discounted to zero is settled at issue, so payments never
try to allocate to it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.invoicing.errors import InvoiceTotalNegative
from billing.invoicing.models import Invoice, InvoiceLine, NumberSeries, Payment
from billing.invoicing.services import invoice_draft_update, invoice_issue
from partner_portal import clock
from tests.conftest import Tenant
from tests.factories.billing import draft, issued, line

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"


def _negative_lines() -> list[dict[str, str]]:
    return [
        {"description": "Consulting", "quantity": "1", "unit_price": "50.00", "tax_rate": "0"},
        {"description": "Refund", "quantity": "1", "unit_price": "-100.00", "tax_rate": "0"},
    ]


def _legacy_negative_draft(tenant: Tenant) -> Invoice:
    """A draft that comes to −50.00, as drafts saved before the rule can."""
    invoice = draft(tenant.customer, line("Consulting", "1", "50.00", "0"))
    InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal("-50.00"), amount=Decimal("-50.00"))
    Invoice.objects.filter(pk=invoice.pk).update(
        subtotal=Decimal("-50.00"), total=Decimal("-50.00"), balance=Decimal("-50.00")
    )
    invoice.refresh_from_db()
    return invoice


def test_a_discount_line_inside_a_positive_invoice_is_kept(tenant: Tenant) -> None:
    invoice = issued(tenant.customer, line("Licences", "1", "100.00", "0"), line("Discount", "1", "-30.00", "0"))
    assert (invoice.total, invoice.status) == (Decimal("70.00"), Invoice.Status.ISSUED)


def test_a_draft_with_a_negative_total_is_refused_and_nothing_is_created(tenant: Tenant) -> None:
    with pytest.raises(InvoiceTotalNegative) as refused:
        draft(tenant.customer, line("Consulting", "1", "50.00", "0"), line("Refund", "1", "-100.00", "0"))
    assert "credit note" in refused.value.fields["lines"][0]
    assert not Invoice.objects.exists()


def test_a_draft_cannot_be_changed_to_a_negative_total(tenant: Tenant) -> None:
    invoice = draft(tenant.customer, line("Consulting", "1", "50.00", "0"))
    with pytest.raises(InvoiceTotalNegative):
        invoice_draft_update(invoice=invoice, actor=None, lines=[line("Refund", "1", "-50.00", "0")])
    invoice.refresh_from_db()
    assert invoice.total == Decimal("50.00")
    assert list(invoice.lines.values_list("description", flat=True)) == ["Consulting"]


def test_a_negative_draft_is_not_issued_and_takes_no_number(tenant: Tenant) -> None:
    invoice = _legacy_negative_draft(tenant)
    with pytest.raises(InvoiceTotalNegative):
        invoice_issue(invoice=invoice, actor=None)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (Invoice.Status.DRAFT, "")
    assert not NumberSeries.objects.exists() or NumberSeries.objects.get().last_number == 0


def test_the_api_refuses_a_negative_invoice_with_its_field(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    response = client.post(INVOICES, {"customer": tenant.customer.pk, "lines": _negative_lines()}, format="json")
    assert response.status_code == 400
    assert "credit note" in response.json()["fields"]["lines"][0]
    assert not Invoice.objects.exists()

    invoice = draft(tenant.customer, line("Consulting", "1", "50.00", "0"))
    response = client.patch(f"{INVOICES}{invoice.pk}/", {"lines": _negative_lines()}, format="json")
    assert response.status_code == 400
    assert "lines" in response.json()["fields"]
    invoice.refresh_from_db()
    assert invoice.total == Decimal("50.00")


def test_the_api_refuses_to_issue_a_negative_draft(tenant: Tenant, api_for) -> None:
    invoice = _legacy_negative_draft(tenant)
    response = api_for(tenant.finance).post(f"{INVOICES}{invoice.pk}/issue/")
    assert response.status_code == 400
    assert "lines" in response.json()["fields"]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.DRAFT


def _page_post(*rows: tuple[str, str, str, str], **extra: str) -> dict[str, str]:
    data = {
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for i, (description, quantity, price, tax) in enumerate(rows):
        data |= {
            f"lines-{i}-description": description,
            f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit_price": price,
            f"lines-{i}-tax_rate": tax,
        }
    return data | extra


def test_the_page_gives_the_same_refusal(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.finance)
    rows = (("Consulting", "1", "50.00", "0"), ("Refund", "1", "-100.00", "0"))
    response = client.post(
        "/staff/billing/invoices/new/", _page_post(*rows, customer=str(tenant.customer.pk), notes="", action="issue")
    )
    assert response.status_code == 400
    assert "credit note" in response.content.decode()
    assert not Invoice.objects.exists()

    invoice = _legacy_negative_draft(tenant)
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/issue/")
    assert response.status_code == 400
    assert "credit note" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.DRAFT


def test_an_invoice_discounted_to_zero_is_settled_and_payments_pass_it_by(tenant: Tenant, api_for) -> None:
    with clock.frozen(dt.date(2026, 11, 20)):
        zero = issued(tenant.customer, line("Licences", "1", "100.00", "0"), line("Discount", "1", "-100.00", "0"))
        assert (zero.total, zero.status) == (Decimal("0.00"), Invoice.Status.PAID)
        owed = issued(tenant.customer, line("Support", "1", "40.00", "0"), on=dt.date(2026, 11, 3))
        response = api_for(tenant.finance).post(
            "/api/v1/payments/",
            {
                "customer": tenant.customer.pk,
                "amount": "100.00",
                "received_on": "2026-11-18",
                "method": "bank_transfer",
            },
            format="json",
        )
    assert response.status_code == 201
    owed.refresh_from_db()
    assert owed.status == Invoice.Status.PAID
    assert Payment.objects.get().unallocated == Decimal("60.00")
