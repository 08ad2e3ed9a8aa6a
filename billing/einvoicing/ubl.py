"""Issued invoices and credit notes as Peppol BIS Billing 3.0 documents (UBL 2.1 `Invoice` and
`CreditNote`), the syntax `validation.validate_ubl` checks.

Pure functions: they read the document and its related rows (partner, customer, lines, and for a
credit note its invoice's lines) and return bytes; no clock, no database writes. The same document
gives the same bytes. Amounts have two decimals, dates are ISO 8601.

An invoice in another currency than the partner's accounting currency states its VAT total in the
accounting currency too (BT-6 `TaxCurrencyCode`, BT-111 a second `TaxTotal` without subtotals) when it
has an exchange rate (`Invoice.tax_currency_rate`), the same figure the CII and the PDF state.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal

from lxml import etree

from billing.invoicing.models import CreditNote, Invoice, InvoiceLine
from billing.invoicing.vat import ZERO_RATE_CATEGORIES, VatBand, vat_bands, vat_in_accounting_currency
from partner_portal.models import Customer, Partner

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_TYPE_CODE = "380"
CREDIT_NOTE_TYPE_CODE = "381"
CREDIT_TRANSFER = "30"

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

CENT = Decimal("0.01")
_VATEX = re.compile(r"\((VATEX-[A-Z0-9-]+)\)")


def invoice_ubl(*, invoice: Invoice) -> bytes:
    """An issued invoice as a UBL 2.1 Invoice (type 380) of Peppol BIS Billing 3.0."""
    if invoice.is_draft:
        raise ValueError("a draft invoice has no e-invoice")
    partner, customer, currency = invoice.partner, invoice.customer, invoice.currency
    lines = list(invoice.lines.all())
    bands = vat_bands(lines)
    codes = _exemption_codes(lines)
    root = etree.Element(f"{{{INVOICE_NS}}}Invoice", nsmap={None: INVOICE_NS, "cac": CAC, "cbc": CBC})
    _header(root, number=invoice.number, issue_date=invoice.issue_date)
    if invoice.due_date:
        _cbc(root, "DueDate", invoice.due_date.isoformat())
    _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    if invoice.notes.strip():
        _cbc(root, "Note", invoice.notes.strip())
    _cbc(root, "DocumentCurrencyCode", currency)
    tax_currency = tax_currency_total(invoice=invoice)
    if tax_currency:
        _cbc(root, "TaxCurrencyCode", tax_currency[0])
    _references(root, customer)
    period = _period(invoice.period)
    if period:
        _period_element(root, *period)
    _order_reference(root, customer)
    _parties(root, partner, customer, bands)
    if any(band.category == "K" for band in bands) and customer.country:
        location = _cac(_cac(root, "Delivery"), "DeliveryLocation")
        _cbc(_cac(_cac(location, "Address"), "Country"), "IdentificationCode", customer.country)
    _payment_means(root, partner, payment_id=invoice.number)
    if invoice.due_date:
        _cbc(_cac(root, "PaymentTerms"), "Note", f"Due {invoice.due_date.isoformat()}")
    _tax_total(root, bands, codes, currency)
    _accounting_tax_total(root, tax_currency)
    _monetary_total(
        root,
        currency,
        lines=sum((line.amount for line in lines), Decimal("0.00")),
        net=invoice.subtotal,
        gross=invoice.total,
        tax=invoice.tax_total,
    )
    for index, line in enumerate(lines, start=1):
        _invoice_line(root, line, index, currency)
    return _bytes(root)


def credit_note_ubl(*, credit_note: CreditNote) -> bytes:
    """An issued credit note as a UBL 2.1 CreditNote (type 381) of Peppol BIS Billing 3.0, referring to
    the credited invoice by number and date; one line per VAT category and rate it credits."""
    note = credit_note
    partner, customer, currency = note.partner, note.customer, note.currency
    bands = note.vat_bands
    codes = _exemption_codes(note.invoice.lines.all())
    root = etree.Element(f"{{{CREDIT_NOTE_NS}}}CreditNote", nsmap={None: CREDIT_NOTE_NS, "cac": CAC, "cbc": CBC})
    _header(root, number=note.number, issue_date=note.issue_date)
    _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    if note.reason.strip():
        _cbc(root, "Note", note.reason.strip())
    _cbc(root, "DocumentCurrencyCode", currency)
    tax_currency = tax_currency_total(invoice=note.invoice, tax=note.tax_amount)
    if tax_currency:
        _cbc(root, "TaxCurrencyCode", tax_currency[0])
    _references(root, customer)
    _order_reference(root, customer)
    invoice_number = note.invoice_number or note.invoice.number
    invoice_date = note.invoice_issue_date or note.invoice.issue_date
    reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
    _cbc(reference, "ID", invoice_number)
    if invoice_date:
        _cbc(reference, "IssueDate", invoice_date.isoformat())
    _parties(root, partner, customer, bands)
    _tax_total(root, bands, codes, currency)
    _accounting_tax_total(root, tax_currency)
    net = sum((band.net for band in bands), Decimal("0.00"))
    _monetary_total(root, currency, lines=net, net=note.net_amount, gross=note.amount, tax=note.tax_amount)
    for index, band in enumerate(bands, start=1):
        element = _cac(root, "CreditNoteLine")
        _cbc(element, "ID", str(index))
        _cbc(element, "CreditedQuantity", "1", unitCode="C62")
        _amount(element, "LineExtensionAmount", band.net, currency)
        item = _cac(element, "Item")
        _cbc(item, "Name", f"Credit on invoice {invoice_number}")
        _tax_category(item, "ClassifiedTaxCategory", band.category, band.rate)
        _amount(_cac(element, "Price"), "PriceAmount", band.net, currency)
    return _bytes(root)


def tax_currency_total(*, invoice: Invoice, tax: Decimal | None = None) -> tuple[str, Decimal] | None:
    """The accounting currency and the VAT total in it (BT-6, BT-111), when the invoice states them:
    its currency differs from the partner's and it has an exchange rate."""
    if tax is None:
        return invoice.tax_in_accounting_currency
    return vat_in_accounting_currency(
        tax=tax, currency=invoice.currency, accounting_currency=invoice.partner.default_currency,
        rate=invoice.tax_currency_rate,
    )  # fmt: skip


def invoice_ubl_filename(invoice: Invoice) -> str:
    return f"{invoice.number}.xml"


def credit_note_ubl_filename(credit_note: CreditNote) -> str:
    return f"{credit_note.number}.xml"


# --- the parts ------------------------------------------------------------------------------------


def _header(root: etree._Element, *, number: str, issue_date: dt.date | None) -> None:
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", number)
    if issue_date:
        _cbc(root, "IssueDate", issue_date.isoformat())


def _references(root: etree._Element, customer: Customer) -> None:
    """BT-10 buyer reference and BT-13 order reference; Peppol requires one of them (PEPPOL-EN16931-R003)."""
    if customer.buyer_reference.strip():
        _cbc(root, "BuyerReference", customer.buyer_reference.strip())


def _order_reference(root: etree._Element, customer: Customer) -> None:
    if customer.order_reference.strip():
        _cbc(_cac(root, "OrderReference"), "ID", customer.order_reference.strip())


def _period(period: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of a billing period "2026-11"."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if year < 1 or not 1 <= month <= 12:
        return None
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _period_element(parent: etree._Element, start: dt.date, end: dt.date) -> None:
    element = _cac(parent, "InvoicePeriod")
    _cbc(element, "StartDate", start.isoformat())
    _cbc(element, "EndDate", end.isoformat())


def _parties(root: etree._Element, partner: Partner, customer: Customer, bands: list[VatBand]) -> None:
    # BR-O-02/BR-O-04: a document with lines outside the scope of VAT states no VAT identifiers.
    outside_scope = any(band.category == "O" for band in bands)
    seller = _cac(_cac(root, "AccountingSupplierParty"), "Party")
    _party(
        seller,
        name=partner.name,
        scheme=partner.peppol_scheme,
        endpoint=partner.peppol_id,
        street=partner.street,
        city=partner.city,
        post_code=partner.post_code,
        country=partner.country,
        vat_id="" if outside_scope else partner.tax_id,
        legal_id=partner.legal_registration_id,
        contact=(partner.contact_name, partner.support_phone, partner.support_email),
    )
    buyer = _cac(_cac(root, "AccountingCustomerParty"), "Party")
    _party(
        buyer,
        name=customer.name,
        scheme=customer.peppol_scheme,
        endpoint=customer.peppol_id,
        street=customer.street,
        city=customer.city,
        post_code=customer.post_code,
        country=customer.country,
        vat_id="" if outside_scope else customer.tax_id,
        legal_id=customer.legal_registration_id,
        contact=(customer.billing_contact, customer.billing_phone, customer.billing_email),
    )


def _party(
    party: etree._Element,
    *,
    name: str,
    scheme: str,
    endpoint: str,
    street: str,
    city: str,
    post_code: str,
    country: str,
    vat_id: str,
    legal_id: str,
    contact: tuple[str, str, str],
) -> None:
    if scheme and endpoint:
        _cbc(party, "EndpointID", endpoint, schemeID=scheme)
    _cbc(_cac(party, "PartyName"), "Name", name)
    address = _cac(party, "PostalAddress")
    if street:
        _cbc(address, "StreetName", street)
    if city:
        _cbc(address, "CityName", city)
    if post_code:
        _cbc(address, "PostalZone", post_code)
    if country:
        _cbc(_cac(address, "Country"), "IdentificationCode", country)
    if vat_id:
        tax_scheme = _cac(party, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", vat_id)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    entity = _cac(party, "PartyLegalEntity")
    _cbc(entity, "RegistrationName", name)
    if legal_id:
        # The register's scheme is known when the number is the party's Peppol identifier (e.g. 0208).
        same = scheme and _compact(legal_id) == _compact(endpoint)
        _cbc(entity, "CompanyID", legal_id, **({"schemeID": scheme} if same else {}))
    person, phone, email = contact
    if person or phone or email:
        element = _cac(party, "Contact")
        for tag, value in (("Name", person), ("Telephone", phone), ("ElectronicMail", email)):
            if value:
                _cbc(element, tag, value)


def _payment_means(root: etree._Element, partner: Partner, *, payment_id: str) -> None:
    """Credit transfer (UNCL4461 code 30) to the partner's account, when it has one."""
    if not partner.iban:
        return
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", CREDIT_TRANSFER, name="Credit transfer")
    _cbc(means, "PaymentID", payment_id)
    account = _cac(means, "PayeeFinancialAccount")
    _cbc(account, "ID", partner.iban)
    _cbc(account, "Name", partner.name)
    if partner.bic:
        _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", partner.bic)


def _exemption_codes(lines: Iterable[InvoiceLine]) -> dict[tuple[str, Decimal], str]:
    """The VATEX code of each category and rate (the first in code order when lines differ)."""
    codes: dict[tuple[str, Decimal], str] = {}
    for line in lines:
        if line.vat_exemption_code:
            key = (line.vat_category, Decimal(line.tax_rate))
            codes[key] = min(codes.get(key, line.vat_exemption_code), line.vat_exemption_code)
    return codes


def _tax_total(
    root: etree._Element, bands: list[VatBand], codes: dict[tuple[str, Decimal], str], currency: str
) -> None:
    total = _cac(root, "TaxTotal")
    _amount(total, "TaxAmount", sum((band.tax for band in bands), Decimal("0.00")), currency)
    for band in bands:
        subtotal = _cac(total, "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", band.net, currency)
        _amount(subtotal, "TaxAmount", band.tax, currency)
        category = _tax_category(subtotal, "TaxCategory", band.category, band.rate, with_scheme=False)
        if band.category in ZERO_RATE_CATEGORIES - {"Z"}:
            code = codes.get((band.category, band.rate)) or _vatex_in(band.exemption)
            if code:
                _cbc(category, "TaxExemptionReasonCode", code)
            if band.exemption:
                _cbc(category, "TaxExemptionReason", band.exemption)
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _accounting_tax_total(root: etree._Element, tax_currency: tuple[str, Decimal] | None) -> None:
    """BT-111: the VAT total in the accounting currency, a second TaxTotal with no subtotals
    (PEPPOL-EN16931-R053/R054)."""
    if tax_currency:
        _amount(_cac(root, "TaxTotal"), "TaxAmount", tax_currency[1], tax_currency[0])


def _vatex_in(text: str) -> str:
    match = _VATEX.search(text)
    return match[1] if match else ""


def _tax_category(
    parent: etree._Element, tag: str, category: str, rate: Decimal, *, with_scheme: bool = True
) -> etree._Element:
    element = _cac(parent, tag)
    if category:
        _cbc(element, "ID", category)
    if category != "O":  # BR-O-05/BR-O-14: outside the scope of VAT has no rate
        _cbc(element, "Percent", _decimal(rate))
    if with_scheme:
        _cbc(_cac(element, "TaxScheme"), "ID", "VAT")
    return element


def _monetary_total(
    root: etree._Element, currency: str, *, lines: Decimal, net: Decimal, gross: Decimal, tax: Decimal
) -> None:
    element = _cac(root, "LegalMonetaryTotal")
    _amount(element, "LineExtensionAmount", lines, currency)
    _amount(element, "TaxExclusiveAmount", net, currency)
    _amount(element, "TaxInclusiveAmount", gross, currency)
    _amount(element, "PayableAmount", gross, currency)


def _invoice_line(root: etree._Element, line: InvoiceLine, index: int, currency: str) -> None:
    quantity, price = Decimal(line.quantity), Decimal(line.unit_price)
    if price < 0:  # BR-27: an item's price is never negative; a discount line has a negative quantity
        quantity, price = -quantity, -price
    element = _cac(root, "InvoiceLine")
    _cbc(element, "ID", str(index))
    _cbc(element, "InvoicedQuantity", _decimal(quantity), unitCode=line.unit_code or "C62")
    _amount(element, "LineExtensionAmount", line.amount, currency)
    if line.period_start and line.period_end:
        _period_element(element, line.period_start, line.period_end)
    item = _cac(element, "Item")
    _cbc(item, "Name", line.description)
    _tax_category(item, "ClassifiedTaxCategory", line.vat_category, Decimal(line.tax_rate))
    _cbc(_cac(element, "Price"), "PriceAmount", _decimal(price), currencyID=currency)


# --- XML ------------------------------------------------------------------------------------------


def _cac(parent: etree._Element, tag: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAC}}}{tag}")


def _cbc(parent: etree._Element, tag: str, text: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CBC}}}{tag}", attrib=attributes)
    element.text = text
    return element


def _amount(parent: etree._Element, tag: str, value: Decimal, currency: str) -> etree._Element:
    return _cbc(parent, tag, str(Decimal(value).quantize(CENT)), currencyID=currency)


def _decimal(value: Decimal) -> str:
    """A quantity, price or rate without trailing zeros, never in exponent form ("21", "2.5", "0.1234")."""
    return format(Decimal(value).normalize(), "f")


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value).upper()


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
