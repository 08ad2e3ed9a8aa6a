"""Every CSV export is safe to open in a spreadsheet: text that would start a formula is kept as text,
numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from billing.invoicing.services import payment_record
from partner_portal import clock
from partner_portal.csvexport import safe_cell
from partner_portal.services import customer_update
from tests.conftest import Tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","Click")', '\'=HYPERLINK("http://evil.example","Click")'),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Contoso", "Contoso"),
        (Decimal("-50.00"), Decimal("-50.00")),
        (-3, -3),
    ],
)
def test_safe_cell(value: object, written: object) -> None:
    assert safe_cell(value) == written


def test_customer_names_and_payment_references_export_as_text(tenant: Tenant, client_for) -> None:
    customer_update(customer=tenant.customer, actor=tenant.admin, changes={"name": '=HYPERLINK("http://x")'})
    tenant.customer.refresh_from_db()
    invoice = issued(tenant.customer, line("Seats", "1", "100.00", "0"))
    payment_record(
        partner=tenant.partner,
        customer=tenant.customer,
        actor=tenant.finance,
        amount=Decimal("100.00"),
        received_on=clock.today(),
        reference="-2+3+cmd|' /C calc'!A0",
    )
    client = client_for(tenant.finance)
    payments = _rows(client.get("/staff/billing/payments.csv"))
    assert payments[0]["reference"] == "'-2+3+cmd|' /C calc'!A0"
    assert payments[0]["customer"] == '\'=HYPERLINK("http://x")'
    assert payments[0]["amount"] == "100.00"
    invoices = _rows(client.get("/staff/billing/invoices.csv"))
    assert [(r["number"], r["customer"]) for r in invoices] == [(invoice.number, '\'=HYPERLINK("http://x")')]
