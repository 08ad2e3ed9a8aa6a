"""Issued invoices and credit notes as UN/CEFACT Cross Industry Invoice D16B (CII) of the EN 16931
profile: the XML a Factur-X / ZUGFeRD PDF carries as `factur-x.xml`, the syntax `validation.validate_cii`
checks against the CII schema and the CEN rules.

Pure functions like `ubl`: they read the document and its related rows and return bytes; no clock, no
database writes; the same document gives the same bytes. A credit note is a CII document of type 381
with positive amounts, referring to the credited invoice (BG-3).

An invoice in a currency other than the partner's accounting currency (`Partner.default_currency`) that
has an exchange rate (`Invoice.tax_currency_rate`, units of the accounting currency per unit of the
invoice currency) states the VAT accounting currency (BT-6) and its VAT total in that currency
(BT-111, the second `TaxTotalAmount`), as Article 230 of the VAT Directive asks of an invoice whose
VAT is due in the seller's member state. Without a rate it states the VAT in the invoice currency only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from lxml import etree

from billing.einvoicing.ubl import CENT, CREDIT_NOTE_TYPE_CODE, CREDIT_TRANSFER, INVOICE_TYPE_CODE, tax_currency_total
from billing.einvoicing.ubl import _compact as compact
from billing.einvoicing.ubl import _decimal as decimal_text
from billing.einvoicing.ubl import _exemption_codes as exemption_codes
from billing.einvoicing.ubl import _period as billing_period
from billing.einvoicing.ubl import _vatex_in as vatex_in
from billing.invoicing.models import CreditNote, Invoice, InvoiceLine
from billing.invoicing.vat import ZERO_RATE_CATEGORIES, VatBand, vat_bands
from partner_portal.models import Customer, Partner

# The EN 16931 profile of Factur-X 1.0 / ZUGFeRD 2.x is the plain EN 16931 specification identifier.
GUIDELINE_ID = "urn:cen.eu:en16931:2017"
FACTURX_FILENAME = "factur-x.xml"

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT}

DATE_FORMAT = "102"  # UNTDID 2379: CCYYMMDD
VAT_ID_SCHEME = "VA"  # BT-31/BT-48: the VAT identifier; "FC" would be a tax registration number


def invoice_cii(*, invoice: Invoice) -> bytes:
    """An issued invoice as a CII CrossIndustryInvoice (type 380) of the EN 16931 profile."""
    if invoice.is_draft:
        raise ValueError("a draft invoice has no e-invoice")
    partner, customer, currency = invoice.partner, invoice.customer, invoice.currency
    lines = list(invoice.lines.all())
    bands = vat_bands(lines)
    root, transaction = _document(number=invoice.number, type_code=INVOICE_TYPE_CODE, issue_date=invoice.issue_date)
    if invoice.notes.strip():
        _ram(_ram(root.find(f"{{{RSM}}}ExchangedDocument"), "IncludedNote"), "Content", invoice.notes.strip())
    for index, line in enumerate(lines, start=1):
        _invoice_line(transaction, line, index)
    _agreement(transaction, partner, customer, bands)
    _delivery(transaction, customer, bands)
    tax_currency = tax_currency_total(invoice=invoice)
    settlement = _settlement_start(transaction, partner, payment_reference=invoice.number, currency=currency)
    if tax_currency:
        settlement.insert(1, _element(RAM, "TaxCurrencyCode", tax_currency[0]))
    _taxes(settlement, bands, exemption_codes(lines))
    period = billing_period(invoice.period)
    if period:
        _period(settlement, *period)
    if invoice.due_date:
        terms = _ram(settlement, "SpecifiedTradePaymentTerms")
        _ram(terms, "Description", f"Due {invoice.due_date.isoformat()}")
        _date(_ram(terms, "DueDateDateTime"), invoice.due_date)
    _summation(
        settlement,
        currency,
        lines=sum((line.amount for line in lines), Decimal("0.00")),
        net=invoice.subtotal,
        tax=invoice.tax_total,
        gross=invoice.total,
        tax_currency=tax_currency,
    )
    return _bytes(root)


def credit_note_cii(*, credit_note: CreditNote) -> bytes:
    """An issued credit note as a CII CrossIndustryInvoice of type 381 (credit note), referring to the
    credited invoice by number and date; one line per VAT category and rate it credits."""
    note = credit_note
    partner, customer, currency = note.partner, note.customer, note.currency
    bands = note.vat_bands
    invoice_number = note.invoice_number or note.invoice.number
    invoice_date = note.invoice_issue_date or note.invoice.issue_date
    root, transaction = _document(number=note.number, type_code=CREDIT_NOTE_TYPE_CODE, issue_date=note.issue_date)
    if note.reason.strip():
        _ram(_ram(root.find(f"{{{RSM}}}ExchangedDocument"), "IncludedNote"), "Content", note.reason.strip())
    for index, band in enumerate(bands, start=1):
        _line(
            transaction,
            index=index,
            name=f"Credit on invoice {invoice_number}",
            quantity=Decimal(1),
            unit_code="C62",
            price=band.net,
            category=band.category,
            rate=band.rate,
            amount=band.net,
        )
    _agreement(transaction, partner, customer, bands)
    _delivery(transaction, customer, bands)
    tax_currency = tax_currency_total(invoice=note.invoice, tax=note.tax_amount)
    settlement = _settlement_start(transaction, partner, payment_reference=note.number, currency=currency)
    if tax_currency:
        settlement.insert(1, _element(RAM, "TaxCurrencyCode", tax_currency[0]))
    _taxes(settlement, bands, exemption_codes(note.invoice.lines.all()))
    # BR-CO-25: a positive amount due needs a due date or payment terms; a credit note is settled
    # against the invoice it credits.
    _ram(_ram(settlement, "SpecifiedTradePaymentTerms"), "Description", f"Credited against invoice {invoice_number}")
    net = sum((band.net for band in bands), Decimal("0.00"))
    _summation(
        settlement, currency, lines=net, net=note.net_amount, tax=note.tax_amount, gross=note.amount,
        tax_currency=tax_currency,
    )  # fmt: skip
    reference = _ram(settlement, "InvoiceReferencedDocument")
    _ram(reference, "IssuerAssignedID", invoice_number)
    if invoice_date:
        _date(_ram(reference, "FormattedIssueDateTime"), invoice_date, namespace=QDT)
    return _bytes(root)


def invoice_cii_filename(invoice: Invoice) -> str:
    return f"{invoice.number}-cii.xml"


def credit_note_cii_filename(credit_note: CreditNote) -> str:
    return f"{credit_note.number}-cii.xml"


# --- the parts ------------------------------------------------------------------------------------


def _document(*, number: str, type_code: str, issue_date: dt.date | None) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = etree.SubElement(root, f"{{{RSM}}}ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", GUIDELINE_ID)
    document = etree.SubElement(root, f"{{{RSM}}}ExchangedDocument")
    _ram(document, "ID", number)
    _ram(document, "TypeCode", type_code)
    if issue_date:
        _date(_ram(document, "IssueDateTime"), issue_date)
    transaction = etree.SubElement(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    return root, transaction


def _invoice_line(transaction: etree._Element, line: InvoiceLine, index: int) -> None:
    quantity, price = Decimal(line.quantity), Decimal(line.unit_price)
    if price < 0:  # BR-27: an item's price is never negative; a discount line has a negative quantity
        quantity, price = -quantity, -price
    _line(
        transaction,
        index=index,
        name=line.description,
        quantity=quantity,
        unit_code=line.unit_code or "C62",
        price=price,
        category=line.vat_category,
        rate=Decimal(line.tax_rate),
        amount=line.amount,
        period=(line.period_start, line.period_end) if line.period_start and line.period_end else None,
    )


def _line(
    transaction: etree._Element,
    *,
    index: int,
    name: str,
    quantity: Decimal,
    unit_code: str,
    price: Decimal,
    category: str,
    rate: Decimal,
    amount: Decimal,
    period: tuple[dt.date, dt.date] | None = None,
) -> None:
    item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
    _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", str(index))
    _ram(_ram(item, "SpecifiedTradeProduct"), "Name", name)
    price_element = _ram(_ram(item, "SpecifiedLineTradeAgreement"), "NetPriceProductTradePrice")
    _ram(price_element, "ChargeAmount", decimal_text(price))
    _ram(_ram(item, "SpecifiedLineTradeDelivery"), "BilledQuantity", decimal_text(quantity), unitCode=unit_code)
    settlement = _ram(item, "SpecifiedLineTradeSettlement")
    tax = _ram(settlement, "ApplicableTradeTax")
    _ram(tax, "TypeCode", "VAT")
    if category:
        _ram(tax, "CategoryCode", category)
    if category != "O":  # BR-O-05: outside the scope of VAT has no rate
        _ram(tax, "RateApplicablePercent", decimal_text(rate))
    if period:
        _period(settlement, *period)
    _ram(_ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation"), "LineTotalAmount", _money(amount))


def _agreement(transaction: etree._Element, partner: Partner, customer: Customer, bands: list[VatBand]) -> None:
    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    if customer.buyer_reference.strip():
        _ram(agreement, "BuyerReference", customer.buyer_reference.strip())
    # BR-O-02/BR-O-04: a document with lines outside the scope of VAT states no VAT identifiers.
    outside_scope = any(band.category == "O" for band in bands)
    _party(
        _ram(agreement, "SellerTradeParty"),
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
    _party(
        _ram(agreement, "BuyerTradeParty"),
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
    if customer.order_reference.strip():
        _ram(_ram(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", customer.order_reference.strip())


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
    _ram(party, "Name", name)
    if legal_id:
        # The register's scheme is known when the number is the party's Peppol identifier (e.g. 0208).
        same = scheme and compact(legal_id) == compact(endpoint)
        _ram(_ram(party, "SpecifiedLegalOrganization"), "ID", legal_id, **({"schemeID": scheme} if same else {}))
    person, phone, email = contact
    if person or phone or email:
        element = _ram(party, "DefinedTradeContact")
        if person:
            _ram(element, "PersonName", person)
        if phone:
            _ram(_ram(element, "TelephoneUniversalCommunication"), "CompleteNumber", phone)
        if email:
            _ram(_ram(element, "EmailURIUniversalCommunication"), "URIID", email)
    address = _ram(party, "PostalTradeAddress")
    if post_code:
        _ram(address, "PostcodeCode", post_code)
    if street:
        _ram(address, "LineOne", street)
    if city:
        _ram(address, "CityName", city)
    if country:
        _ram(address, "CountryID", country)
    if scheme and endpoint:
        _ram(_ram(party, "URIUniversalCommunication"), "URIID", endpoint, schemeID=scheme)
    if vat_id:
        _ram(_ram(party, "SpecifiedTaxRegistration"), "ID", vat_id, schemeID=VAT_ID_SCHEME)


def _delivery(transaction: etree._Element, customer: Customer, bands: list[VatBand]) -> None:
    delivery = _ram(transaction, "ApplicableHeaderTradeDelivery")
    # BR-IC-12: an intra-community supply states the country it was delivered to.
    if any(band.category == "K" for band in bands) and customer.country:
        _ram(_ram(_ram(delivery, "ShipToTradeParty"), "PostalTradeAddress"), "CountryID", customer.country)


def _settlement_start(
    transaction: etree._Element, partner: Partner, *, payment_reference: str, currency: str
) -> etree._Element:
    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    _ram(settlement, "PaymentReference", payment_reference)
    _ram(settlement, "InvoiceCurrencyCode", currency)
    if partner.iban:  # credit transfer (UNCL4461 code 30) to the partner's account
        means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        _ram(means, "TypeCode", CREDIT_TRANSFER)
        account = _ram(means, "PayeePartyCreditorFinancialAccount")
        _ram(account, "IBANID", partner.iban)
        _ram(account, "AccountName", partner.name)
        if partner.bic:
            _ram(_ram(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", partner.bic)
    return settlement


def _taxes(settlement: etree._Element, bands: Iterable[VatBand], codes: dict[tuple[str, Decimal], str]) -> None:
    for band in bands:
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "CalculatedAmount", _money(band.tax))
        _ram(tax, "TypeCode", "VAT")
        exempt = band.category in ZERO_RATE_CATEGORIES - {"Z"}
        if exempt and band.exemption:
            _ram(tax, "ExemptionReason", band.exemption)
        _ram(tax, "BasisAmount", _money(band.net))
        if band.category:
            _ram(tax, "CategoryCode", band.category)
        if exempt:
            code = codes.get((band.category, band.rate)) or vatex_in(band.exemption)
            if code:
                _ram(tax, "ExemptionReasonCode", code)
        if band.category != "O":
            _ram(tax, "RateApplicablePercent", decimal_text(band.rate))


def _period(parent: etree._Element, start: dt.date, end: dt.date) -> None:
    element = _ram(parent, "BillingSpecifiedPeriod")
    _date(_ram(element, "StartDateTime"), start)
    _date(_ram(element, "EndDateTime"), end)


def _summation(
    settlement: etree._Element,
    currency: str,
    *,
    lines: Decimal,
    net: Decimal,
    tax: Decimal,
    gross: Decimal,
    tax_currency: tuple[str, Decimal] | None,
) -> None:
    element = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(element, "LineTotalAmount", _money(lines))
    _ram(element, "TaxBasisTotalAmount", _money(net))
    _ram(element, "TaxTotalAmount", _money(tax), currencyID=currency)
    if tax_currency:
        _ram(element, "TaxTotalAmount", _money(tax_currency[1]), currencyID=tax_currency[0])
    _ram(element, "GrandTotalAmount", _money(gross))
    _ram(element, "DuePayableAmount", _money(gross))


# --- XML ------------------------------------------------------------------------------------------


def _element(namespace: str, tag: str, text: str) -> etree._Element:
    element = etree.Element(f"{{{namespace}}}{tag}")
    element.text = text
    return element


def _ram(parent: etree._Element | None, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    assert parent is not None  # noqa: S101 (the callers pass elements they have just built)
    element = etree.SubElement(parent, f"{{{RAM}}}{tag}", attrib=attributes)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, value: dt.date, *, namespace: str = UDT) -> None:
    element = etree.SubElement(parent, f"{{{namespace}}}DateTimeString", format=DATE_FORMAT)
    element.text = value.strftime("%Y%m%d")


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
