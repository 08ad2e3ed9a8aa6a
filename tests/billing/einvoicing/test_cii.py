"""Portal invoices and credit notes as UN/CEFACT CII (the XML of Factur-X, EN 16931 profile), run
through the CII D16B schema and the official CEN rules: what the portal embeds passes with no fatal
finding, and a broken document is caught by the rule that names the fault."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from billing.einvoicing.cii import NSMAP, credit_note_cii, invoice_cii
from billing.einvoicing.validation import validate_cii
from billing.invoicing.models import Invoice
from billing.invoicing.services import credit_note_issue
from tests.billing.einvoicing.test_ubl import _buyer, _line, _seller
from tests.factories.billing import draft, issued

pytestmark = pytest.mark.django_db

SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"


def _assert_valid(xml: bytes) -> None:
    report = validate_cii(xml)
    assert report.fatal == (), [(f.rule, f.text) for f in report.fatal]


def _text(xml: bytes, path: str) -> list[str]:
    return [str(x) for x in etree.fromstring(xml).xpath(path, namespaces=NSMAP)]


def test_domestic_invoice_at_the_standard_rate_passes_and_renders_the_same_bytes_twice() -> None:
    invoice = issued(
        _buyer(_seller()),
        _line("Microsoft 365 E3", "10", "36.00", "21.00"),
        _line("Teams Phone", "3", "7.3333", "21.00", unit_code="MON"),
    )

    xml = invoice_cii(invoice=invoice)

    _assert_valid(xml)
    assert xml == invoice_cii(invoice=invoice)
    assert _text(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["380"]
    assert _text(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode/text()") == ["S"]
    summation = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert _text(xml, f"{summation}/ram:TaxTotalAmount/text()") == [str(invoice.tax_total)]
    assert _text(xml, f"{summation}/ram:DuePayableAmount/text()") == [str(invoice.total)]
    assert _text(xml, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID/text()") == ["BE68539007547034"]
    assert _text(xml, "//ram:BilledQuantity/@unitCode") == ["C62", "MON"]
    assert _text(xml, "//ram:DueDateDateTime/udt:DateTimeString/text()") == [invoice.due_date.strftime("%Y%m%d")]


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

    xml = invoice_cii(invoice=invoice)

    _assert_valid(xml)
    assert _text(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode/text()") == ["AE"]
    assert _text(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode/text()") == ["VATEX-EU-AE"]
    assert _text(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()") == ["DE136695976"]


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

    xml = invoice_cii(invoice=invoice)

    _assert_valid(xml)
    assert _text(xml, "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode/text()") == ["G"]
    assert _text(xml, "//ram:InvoiceCurrencyCode/text()") == ["USD"]
    assert _text(xml, "//ram:TaxCurrencyCode/text()") == []  # no exchange rate given: VAT in USD only


def test_invoice_with_several_rates_passes_with_a_breakdown_per_rate() -> None:
    invoice = issued(
        _buyer(_seller()),
        _line("Microsoft 365 E5", "4", "57.00", "21.00"),
        _line("Printed manuals", "2", "12.50", "6.00"),
        _line("Training voucher", "1", "80.00", "0.00", vat_category="E", vat_exemption_code="VATEX-EU-132"),
        _line("Loyalty discount", "1", "-20.00", "21.00"),
    )

    xml = invoice_cii(invoice=invoice)

    _assert_valid(xml)
    assert _text(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode/text()") == ["S", "S", "E"]
    assert _text(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:BasisAmount/text()") == ["208.00", "25.00", "80.00"]


def test_credit_note_is_type_381_and_refers_to_the_invoice() -> None:
    invoice = issued(
        _buyer(_seller()),
        _line("Microsoft 365 E3", "10", "36.00", "21.00"),
        _line("Printed manuals", "2", "12.50", "6.00"),
    )
    note = credit_note_issue(invoice=invoice, actor=None, reason="Two seats cancelled", amount=Decimal("100.00"))

    xml = credit_note_cii(credit_note=note)

    _assert_valid(xml)
    assert xml == credit_note_cii(credit_note=note)
    assert _text(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    reference = f"{SETTLEMENT}/ram:InvoiceReferencedDocument"
    assert _text(xml, f"{reference}/ram:IssuerAssignedID/text()") == [invoice.number]
    assert _text(xml, f"{reference}/ram:FormattedIssueDateTime/qdt:DateTimeString/text()") == [
        invoice.issue_date.strftime("%Y%m%d")
    ]
    assert _text(xml, "//ram:DuePayableAmount/text()") == ["100.00"]


def test_a_usd_invoice_states_its_vat_total_in_the_partners_euro_too() -> None:
    customer = _buyer(_seller(), currency="USD")
    invoice = issued(customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    Invoice.objects.filter(pk=invoice.pk).update(tax_currency_rate=Decimal("0.92"))
    invoice.refresh_from_db()

    xml = invoice_cii(invoice=invoice)

    _assert_valid(xml)
    assert _text(xml, "//ram:TaxCurrencyCode/text()") == ["EUR"]
    assert _text(xml, "//ram:InvoiceCurrencyCode/text()") == ["USD"]
    # 75.60 USD of VAT at 0.92 EUR per USD
    assert _text(xml, "//ram:TaxTotalAmount/@currencyID") == ["USD", "EUR"]
    assert _text(xml, "//ram:TaxTotalAmount/text()") == ["75.60", "69.55"]


def test_a_total_that_does_not_add_up_fires_br_co_15() -> None:
    invoice = issued(_buyer(_seller()), _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    invoice.total += Decimal("1.00")

    report = validate_cii(invoice_cii(invoice=invoice))

    assert "BR-CO-15" in report.fatal_rules


def test_a_line_without_a_vat_category_is_refused() -> None:
    issued_invoice = issued(_buyer(_seller()), _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    invoice = Invoice.objects.prefetch_related("lines").get(pk=issued_invoice.pk)
    invoice.lines.all()[0].vat_category = ""

    report = validate_cii(invoice_cii(invoice=invoice))

    assert "BR-CO-04" in report.fatal_rules


def test_a_vat_currency_without_its_vat_total_fires_br_53() -> None:
    customer = _buyer(_seller(), currency="USD")
    invoice = issued(customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    Invoice.objects.filter(pk=invoice.pk).update(tax_currency_rate=Decimal("0.92"))
    invoice.refresh_from_db()
    root = etree.fromstring(invoice_cii(invoice=invoice))
    euro = root.xpath("//ram:TaxTotalAmount[@currencyID='EUR']", namespaces=NSMAP)[0]
    euro.getparent().remove(euro)

    report = validate_cii(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    assert "BR-53" in report.fatal_rules


def test_a_draft_has_no_cii() -> None:
    with pytest.raises(ValueError, match="draft"):
        invoice_cii(invoice=draft(_buyer(_seller())))
