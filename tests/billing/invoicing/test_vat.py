"""VAT categories of invoice lines: the default, the invariants, the refusal at issue and the breakdown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.invoicing.errors import InvoiceLineVatInvalid, InvoiceVatCategoryMissing
from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.pdf import invoice_html
from billing.invoicing.services import LineInput, invoice_issue
from billing.invoicing.vat import EU_MEMBER_STATES, VatBand, vat_bands, vat_category_default, vat_line_problems
from tests.conftest import Tenant
from tests.factories.billing import draft, line

D = Decimal


@pytest.mark.parametrize(
    ("seller", "buyer", "vat_id", "rate", "expected"),
    [
        ("DE", "DE", "", "19", ("S", "")),
        ("DE", "FR", "FR12345678901", "20", ("S", "")),  # VAT charged: standard rated whatever the countries
        ("DE", "DE", "", "0", ("Z", "")),
        ("DE", "FR", "FR12345678901", "0", ("AE", "VATEX-EU-AE")),
        ("DE", "FR", "", "0", None),  # an EU consumer or a buyer without a VAT number: not decided
        ("DE", "US", "", "0", ("G", "VATEX-EU-G")),
        ("DE", "CH", "CHE-123.456.789", "0", ("G", "VATEX-EU-G")),
        ("GB", "GB", "", "0", ("Z", "")),
        ("DE", "", "", "0", None),
        ("", "DE", "", "0", None),
        ("de", " fr ", "FR1", "0", ("AE", "VATEX-EU-AE")),
    ],
)
def test_the_default_category(seller: str, buyer: str, vat_id: str, rate: str, expected: tuple | None) -> None:
    default = vat_category_default(seller_country=seller, buyer_country=buyer, buyer_vat_id=vat_id, rate=D(rate))
    assert (None if default is None else (default.category, default.exemption_code)) == expected


def test_the_member_states() -> None:
    assert len(EU_MEMBER_STATES) == 27
    assert {"GR", "HR", "CY"} <= EU_MEMBER_STATES
    assert not {"GB", "CH", "NO", "EL"} & EU_MEMBER_STATES


@pytest.mark.parametrize(
    ("category", "rate", "reason", "code", "field"),
    [
        ("S", "20", "", "", None),
        ("S", "0", "", "", "vat_category"),
        ("Z", "0", "", "", None),
        ("Z", "7", "", "", "tax_rate"),
        ("AE", "0", "", "", "vat_exemption_reason"),
        ("AE", "0", "", "VATEX-EU-AE", None),
        ("E", "0", "Medical care", "", None),
        ("G", "19", "", "VATEX-EU-G", "tax_rate"),
        ("O", "0", "  ", "", "vat_exemption_reason"),
        ("", "0", "", "", None),  # blank: allowed on a draft, refused at issue
    ],
)
def test_the_invariants(category: str, rate: str, reason: str, code: str, field: str | None) -> None:
    problems = vat_line_problems(category=category, rate=D(rate), exemption_reason=reason, exemption_code=code)
    assert list(problems) == ([field] if field else [])


def test_the_breakdown_groups_by_category_and_rate() -> None:
    lines = [
        InvoiceLine(vat_category="S", tax_rate=D("20"), amount=D("100.00"), tax_amount=D("20.00")),
        InvoiceLine(vat_category="S", tax_rate=D("20"), amount=D("0.05"), tax_amount=D("0.01")),
        InvoiceLine(vat_category="S", tax_rate=D("7"), amount=D("10.00"), tax_amount=D("0.70")),
        InvoiceLine(vat_category="AE", tax_rate=D("0"), amount=D("50.00"), tax_amount=D("0.00"),
                    vat_exemption_code="VATEX-EU-AE"),
        InvoiceLine(vat_category="E", tax_rate=D("0"), amount=D("5.00"), tax_amount=D("0.00"),
                    vat_exemption_reason="Training by a public body"),
    ]  # fmt: skip
    assert vat_bands(lines) == [
        VatBand("S", D("20"), D("100.05"), D("20.01")),
        VatBand("S", D("7"), D("10.00"), D("0.70")),
        VatBand("AE", D("0"), D("50.00"), D("0.00"), "Reverse charge (VATEX-EU-AE)"),
        VatBand("E", D("0"), D("5.00"), D("0.00"), "Training by a public body"),
    ]


pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_lines_get_their_category_from_the_countries(tenant: Tenant) -> None:
    tenant.partner.country = "DE"
    tenant.partner.save(update_fields=["country"])
    customer = tenant.customer
    customer.country, customer.tax_id = "FR", "FR12345678901"
    customer.save(update_fields=["country", "tax_id"])
    invoice = draft(customer, line("Seats", tax_rate="19"), line("Reverse charged", tax_rate="0"))
    rows = list(invoice.lines.order_by("position"))
    assert [(r.vat_category, r.vat_exemption_code, r.unit_code) for r in rows] == [
        ("S", "", "C62"),
        ("AE", "VATEX-EU-AE", "C62"),
    ]


@pytestmark_db
def test_a_chosen_category_that_does_not_fit_is_refused(tenant: Tenant) -> None:
    bad = LineInput(description="Seats", quantity=D(1), unit_price=D(10), tax_rate=D("20"), vat_category="Z")
    with pytest.raises(InvoiceLineVatInvalid) as refused:
        draft(tenant.customer, bad)
    assert "Line 1" in str(refused.value)
    assert not Invoice.objects.exists()


@pytestmark_db
def test_a_zero_rated_line_without_category_is_not_issued(tenant: Tenant) -> None:
    tenant.customer.country = "FR"  # an EU buyer without a VAT number: nothing to decide from
    tenant.customer.save(update_fields=["country"])
    invoice = draft(tenant.customer, line("Seats", tax_rate="20"), line("Setup", tax_rate="0"))
    assert [r.vat_category for r in invoice.lines.order_by("position")] == ["S", ""]
    with pytest.raises(InvoiceVatCategoryMissing) as refused:
        invoice_issue(invoice=invoice, actor=tenant.finance)
    assert "line 2" in str(refused.value)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (Invoice.Status.DRAFT, "")


@pytestmark_db
def test_the_api_takes_and_checks_categories(tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    body = {
        "customer": tenant.customer.pk,
        "lines": [
            {"description": "Seats", "quantity": "2", "unit_price": "10", "tax_rate": "20", "vat_category": "AE"},
        ],
    }
    response = client.post("/api/v1/invoices/", body, format="json")
    assert response.status_code == 400
    assert "tax_rate" in response.json()["fields"]["lines"][0]
    body["lines"] = [
        {"description": "Consulting", "quantity": "3", "unit_price": "100", "tax_rate": "0", "vat_category": "O",
         "vat_exemption_code": "VATEX-EU-O", "unit_code": "HUR"},
        {"description": "Seats", "quantity": "2", "unit_price": "10", "tax_rate": "20"},
    ]  # fmt: skip
    response = client.post("/api/v1/invoices/", body, format="json")
    assert response.status_code == 201, response.json()
    lines = response.json()["lines"]
    assert [(x["vat_category"], x["unit_code"], x["vat_exemption_code"]) for x in lines] == [
        ("O", "HUR", "VATEX-EU-O"),
        ("S", "C62", ""),
    ]
    invoice_id = response.json()["id"]
    response = client.post(f"/api/v1/invoices/{invoice_id}/issue/", {}, format="json")
    assert response.status_code == 200, response.json()


@pytestmark_db
def test_the_api_refuses_to_issue_a_zero_rated_line_without_category(tenant: Tenant, api_for) -> None:
    tenant.customer.country = ""
    tenant.customer.save(update_fields=["country"])
    invoice = draft(tenant.customer, line("Setup", tax_rate="0"))
    response = api_for(tenant.finance).post(f"/api/v1/invoices/{invoice.pk}/issue/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invoice_vat_category_missing"


@pytestmark_db
def test_the_page_and_the_pdf_show_the_breakdown_and_the_reason(tenant: Tenant, client_for) -> None:
    invoice = draft(
        tenant.customer,
        line("Seats", "10", "36.00", "20"),
        LineInput(description="Export", quantity=D(1), unit_price=D("50"), tax_rate=D(0), vat_category="E",
                  vat_exemption_reason="Exempt training services"),
    )  # fmt: skip
    page = client_for(tenant.finance).get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert "VAT breakdown" in page
    assert "Exempt from VAT" in page
    assert "Exempt training services" in page
    html = invoice_html(invoice=invoice)
    assert "VAT breakdown" in html
    assert "Exempt training services" in html
    assert "Standard rate" in html


@pytestmark_db
def test_the_editor_changes_a_lines_category_and_unit(tenant: Tenant, client_for) -> None:
    invoice = draft(tenant.customer, line("Consulting", "2", "100", "0"))
    first = invoice.lines.get()
    data = {
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "1", "lines-MAX_NUM_FORMS": "1000",
        "lines-0-line_id": str(first.pk), "lines-0-description": "Consulting", "lines-0-quantity": "2",
        "lines-0-unit_price": "100", "lines-0-tax_rate": "0", "lines-0-unit_code": "HUR",
        "lines-0-vat_category": "O", "lines-0-vat_exemption_reason": "", "notes": "", "action": "save",
    }  # fmt: skip
    client = client_for(tenant.finance)
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/edit/", data)
    assert response.status_code == 400
    assert "exemption reason" in response.content.decode()
    data["lines-0-vat_exemption_reason"] = "Services outside the scope of VAT"
    response = client.post(f"/staff/billing/invoices/{invoice.pk}/edit/", data)
    assert response.status_code == 302
    saved = invoice.lines.get()
    assert (saved.vat_category, saved.unit_code, saved.vat_exemption_reason) == (
        "O",
        "HUR",
        "Services outside the scope of VAT",
    )
