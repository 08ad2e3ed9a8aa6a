"""Portal invoices and credit notes as Peppol BIS Billing 3.0 UBL, run through the official CEN and
Peppol rules: what the portal sends passes with no fatal finding, and a broken document is caught."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from billing.einvoicing.ubl import CAC, CBC, credit_note_ubl, invoice_ubl
from billing.einvoicing.validation import validate_ubl
from billing.invoicing.models import Invoice
from billing.invoicing.services import LineInput, credit_note_issue
from partner_portal.models import Customer, Partner
from tests.conftest import Tenant
from tests.factories import CustomerFactory, PartnerFactory
from tests.factories.billing import draft, issued

pytestmark = pytest.mark.django_db

NS = {"cac": CAC, "cbc": CBC}


def _seller() -> Partner:
    return PartnerFactory(
        name="Cloudwise BV",
        default_currency="EUR",
        street="Rue de la Loi 16",
        city="Brussels",
        post_code="1000",
        country="BE",
        tax_id="BE0403170701",
        legal_registration_id="0403170701",
        peppol_scheme="0208",
        peppol_id="0403170701",
        contact_name="Anne Peeters",
        iban="BE68539007547034",
        bic="GKCCBEBB",
    )


def _buyer(partner: Partner, **fields: object) -> Customer:
    data: dict[str, object] = {
        "partner": partner,
        "name": "Brouwerij Janssens NV",
        "street": "Meir 1",
        "city": "Antwerp",
        "post_code": "2000",
        "country": "BE",
        "tax_id": "BE0417497106",
        "legal_registration_id": "0417497106",
        "peppol_scheme": "0208",
        "peppol_id": "0417497106",
        "buyer_reference": "PO-4711",
        "currency": "EUR",
        "credit_days": 30,
    }
    data.update(fields)
    return CustomerFactory(**data)


def _line(description: str, quantity: str, price: str, rate: str, **fields: str) -> LineInput:
    return LineInput(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        tax_rate=Decimal(rate),
        **fields,  # type: ignore[arg-type]
    )


def _assert_valid(xml: bytes) -> None:
    report = validate_ubl(xml)
    assert report.fatal == (), [(f.rule, f.text) for f in report.fatal]


def _text(xml: bytes, path: str) -> list[str]:
    return [str(x) for x in etree.fromstring(xml).xpath(path, namespaces=NS)]


def test_domestic_invoice_at_the_standard_rate_passes_the_rules_and_renders_the_same_bytes_twice() -> None:
    customer = _buyer(_seller())
    invoice = issued(
        customer,
        _line("Microsoft 365 E3", "10", "36.00", "21.00"),
        _line("Teams Phone", "3", "7.3333", "21.00", unit_code="MON"),
    )

    xml = invoice_ubl(invoice=invoice)

    _assert_valid(xml)
    assert xml == invoice_ubl(invoice=invoice)
    root = "/*[local-name()='Invoice']"
    assert _text(xml, f"{root}/cbc:InvoiceTypeCode/text()") == ["380"]
    assert _text(xml, f"{root}/cbc:DueDate/text()") == [invoice.due_date.isoformat()]
    assert _text(xml, f"{root}/cac:TaxTotal/cbc:TaxAmount/text()") == [str(invoice.tax_total)]
    assert _text(xml, f"{root}/cac:LegalMonetaryTotal/cbc:PayableAmount/text()") == [str(invoice.total)]
    assert _text(xml, f"{root}/cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID/text()") == ["BE68539007547034"]
    assert _text(xml, f"{root}/cac:InvoiceLine/cbc:InvoicedQuantity/@unitCode") == ["C62", "MON"]
    assert _text(xml, f"{root}/cac:AccountingCustomerParty//cbc:EndpointID/text()") == ["0417497106"]


def test_reverse_charge_to_a_business_in_another_member_state_passes() -> None:
    customer = _buyer(
        _seller(),
        name="Muster GmbH",
        street="Hauptstrasse 5",
        city="Berlin",
        post_code="10115",
        country="DE",
        tax_id="DE136695976",
        legal_registration_id="HRB 12345",
        peppol_scheme="9930",
        peppol_id="DE136695976",
        buyer_reference="",
        order_reference="4500012345",
    )
    invoice = issued(customer, _line("Azure plan", "1", "1250.00", "0.00"))

    xml = invoice_ubl(invoice=invoice)

    _assert_valid(xml)
    assert invoice.lines.get().vat_category == "AE"
    assert _text(xml, "//cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReasonCode/text()") == ["VATEX-EU-AE"]
    assert _text(xml, "//cac:OrderReference/cbc:ID/text()") == ["4500012345"]


def test_export_outside_the_eu_passes() -> None:
    customer = _buyer(
        _seller(),
        name="Acme Inc.",
        street="1 Main Street",
        city="Springfield",
        post_code="62701",
        country="US",
        tax_id="",
        legal_registration_id="",
        peppol_scheme="0060",
        peppol_id="123456789",
        currency="USD",
    )
    invoice = issued(customer, _line("Dynamics 365 Sales", "5", "95.00", "0.00"))

    xml = invoice_ubl(invoice=invoice)

    _assert_valid(xml)
    assert _text(xml, "//cac:ClassifiedTaxCategory/cbc:ID/text()") == ["G"]
    assert _text(xml, "//cbc:DocumentCurrencyCode/text()") == ["USD"]


def test_invoice_with_several_rates_passes_with_a_subtotal_per_rate() -> None:
    customer = _buyer(_seller())
    invoice = issued(
        customer,
        _line("Microsoft 365 E5", "4", "57.00", "21.00"),
        _line("Printed manuals", "2", "12.50", "6.00"),
        _line("Training voucher", "1", "80.00", "0.00", vat_category="E", vat_exemption_code="VATEX-EU-132"),
        _line("Loyalty discount", "1", "-20.00", "21.00"),
    )

    xml = invoice_ubl(invoice=invoice)

    _assert_valid(xml)
    assert _text(xml, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID/text()") == ["S", "S", "E"]
    assert _text(xml, "//cac:TaxSubtotal/cbc:TaxableAmount/text()") == ["208.00", "25.00", "80.00"]


def test_credit_note_of_a_partly_credited_invoice_passes_and_refers_to_the_invoice() -> None:
    customer = _buyer(_seller())
    invoice = issued(
        customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"), _line("Printed manuals", "2", "12.50", "6.00")
    )
    note = credit_note_issue(invoice=invoice, actor=None, reason="Two seats cancelled", amount=Decimal("100.00"))

    xml = credit_note_ubl(credit_note=note)

    _assert_valid(xml)
    root = "/*[local-name()='CreditNote']"
    assert _text(xml, f"{root}/cbc:CreditNoteTypeCode/text()") == ["381"]
    reference = f"{root}/cac:BillingReference/cac:InvoiceDocumentReference"
    assert _text(xml, f"{reference}/cbc:ID/text()") == [invoice.number]
    assert _text(xml, f"{reference}/cbc:IssueDate/text()") == [invoice.issue_date.isoformat()]
    assert _text(xml, f"{root}/cac:LegalMonetaryTotal/cbc:PayableAmount/text()") == ["100.00"]
    assert xml == credit_note_ubl(credit_note=note)


def test_a_usd_invoice_and_its_credit_note_state_the_vat_total_in_the_partners_euro_too() -> None:
    customer = _buyer(_seller(), currency="USD")
    invoice = issued(customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    Invoice.objects.filter(pk=invoice.pk).update(tax_currency_rate=Decimal("0.92"))
    invoice.refresh_from_db()
    note = credit_note_issue(invoice=invoice, actor=None, reason="Two seats cancelled", amount=Decimal("121.00"))

    xml = invoice_ubl(invoice=invoice)
    note_xml = credit_note_ubl(credit_note=note)

    _assert_valid(xml)
    _assert_valid(note_xml)
    assert _text(xml, "//cbc:DocumentCurrencyCode/text()") == ["USD"]
    assert _text(xml, "//cbc:TaxCurrencyCode/text()") == ["EUR"]
    # 75.60 USD of VAT at 0.92 EUR per USD; the second total has no subtotals
    assert _text(xml, "/*/cac:TaxTotal/cbc:TaxAmount/@currencyID") == ["USD", "EUR"]
    assert _text(xml, "/*/cac:TaxTotal/cbc:TaxAmount/text()") == ["75.60", "69.55"]
    assert len(etree.fromstring(xml).xpath("/*/cac:TaxTotal[2]/cac:TaxSubtotal", namespaces=NS)) == 0
    # 21.00 USD of VAT credited is 19.32 EUR
    assert _text(note_xml, "/*/cac:TaxTotal/cbc:TaxAmount/text()") == ["21.00", "19.32"]


def test_a_vat_currency_without_its_vat_total_fires_br_53() -> None:
    customer = _buyer(_seller(), currency="USD")
    invoice = issued(customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    Invoice.objects.filter(pk=invoice.pk).update(tax_currency_rate=Decimal("0.92"))
    invoice.refresh_from_db()
    root = etree.fromstring(invoice_ubl(invoice=invoice))
    euro = root.xpath("/*/cac:TaxTotal[2]", namespaces=NS)[0]
    euro.getparent().remove(euro)

    report = validate_ubl(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    assert "BR-53" in report.fatal_rules


def test_a_total_that_does_not_add_up_fires_br_co_15() -> None:
    invoice = issued(_buyer(_seller()), _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    invoice.total += Decimal("1.00")

    report = validate_ubl(invoice_ubl(invoice=invoice))

    assert "BR-CO-15" in report.fatal_rules


def test_a_line_without_a_vat_category_fires_br_co_04() -> None:
    issued_invoice = issued(_buyer(_seller()), _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    invoice = Invoice.objects.prefetch_related("lines").get(pk=issued_invoice.pk)
    line = invoice.lines.all()[0]
    line.vat_category = ""

    report = validate_ubl(invoice_ubl(invoice=invoice))

    assert "BR-CO-04" in report.fatal_rules


def test_a_draft_has_no_e_invoice() -> None:
    with pytest.raises(ValueError, match="draft"):
        invoice_ubl(invoice=draft(_buyer(_seller())))


# --- downloads ------------------------------------------------------------------------------------


def _einvoice_tenant(tenant: Tenant) -> None:
    seller = _seller()
    Partner.objects.filter(pk=tenant.partner.pk).update(
        **{f: getattr(seller, f) for f in EINVOICE_PARTNER_FIELDS}, default_currency="EUR"
    )
    Customer.objects.filter(pk=tenant.customer.pk).update(
        street="Meir 1", city="Antwerp", post_code="2000", country="BE", tax_id="BE0417497106",
        peppol_scheme="0208", peppol_id="0417497106", buyer_reference="PO-4711", currency="EUR",
    )  # fmt: skip
    tenant.partner.refresh_from_db()
    tenant.customer.refresh_from_db()


EINVOICE_PARTNER_FIELDS = (
    "street", "city", "post_code", "country", "tax_id", "legal_registration_id", "peppol_scheme", "peppol_id",
    "iban", "bic",
)  # fmt: skip


def test_staff_and_the_customer_download_the_invoice_and_credit_note_as_valid_ubl(
    tenant: Tenant, client_for: Any, api_for: Any
) -> None:
    _einvoice_tenant(tenant)
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    note = credit_note_issue(invoice=invoice, actor=None, reason="Seat cancelled", amount=Decimal("43.56"))

    for response in (
        api_for(tenant.finance).get(f"/api/v1/invoices/{invoice.pk}/ubl/"),
        client_for(tenant.customer_admin).get(f"/documents/invoices/{invoice.pk}.xml"),
        api_for(tenant.customer_member).get(f"/api/v1/credit-notes/{note.pk}/ubl/"),
        client_for(tenant.finance).get(f"/documents/credit-notes/{note.pk}.xml"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/xml"
        assert response["Content-Disposition"].startswith("attachment; filename=")
        _assert_valid(response.content)


def test_the_pages_link_the_ubl_download(tenant: Tenant, client_for: Any) -> None:
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "10", "36.00", "20.00"))
    note = credit_note_issue(invoice=invoice, actor=None, reason="Seat cancelled", amount=Decimal("10.00"))
    staff = client_for(tenant.finance)

    assert (
        f"/documents/invoices/{invoice.pk}.xml" in staff.get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    )
    assert (
        f"/documents/credit-notes/{note.pk}.xml"
        in staff.get(f"/staff/billing/credit-notes/{note.pk}/").content.decode()
    )
    home = client_for(tenant.customer_admin).get("/my/").content.decode()
    assert f"/documents/invoices/{invoice.pk}.xml" in home
    assert "UBL (Peppol)" in home


def test_a_draft_has_no_ubl_download_and_another_customer_gets_nothing(
    tenant: Tenant, client_for: Any, api_for: Any
) -> None:
    draft_invoice = draft(tenant.customer)
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "1", "36.00", "20.00"))

    response = api_for(tenant.finance).get(f"/api/v1/invoices/{draft_invoice.pk}/ubl/")
    assert response.status_code == 404
    assert "draft" in response.json()["detail"]
    assert client_for(tenant.finance).get(f"/documents/invoices/{draft_invoice.pk}.xml").status_code == 404
    assert (
        f"/documents/invoices/{draft_invoice.pk}.xml"
        not in client_for(tenant.finance).get(f"/staff/billing/invoices/{draft_invoice.pk}/").content.decode()
    )
    assert client_for(tenant.other_customer_admin).get(f"/documents/invoices/{invoice.pk}.xml").status_code == 404
    assert api_for(tenant.other_customer_admin).get(f"/api/v1/invoices/{invoice.pk}/ubl/").status_code == 404
