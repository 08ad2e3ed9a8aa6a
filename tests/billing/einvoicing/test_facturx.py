"""Factur-X PDFs: PDF/A-3b with the CII inside as factur-x.xml, the Factur-X XMP, the same bytes every
time, and the embedded XML exactly the XML the portal serves (read back with the `factur-x` library)."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from facturx import get_facturx_xml_from_pdf, get_level, xml_check_xsd
from lxml import etree
from pypdf import PdfReader

from billing.einvoicing.cii import credit_note_cii, invoice_cii
from billing.einvoicing.facturx import credit_note_facturx_pdf, embedded_xml, invoice_facturx_pdf
from billing.invoicing.services import credit_note_issue
from tests.billing.einvoicing.test_ubl import _buyer, _line, _seller
from tests.factories.billing import draft, issued

pytestmark = pytest.mark.django_db


def _catalog(content: bytes) -> Any:
    return PdfReader(io.BytesIO(content)).trailer["/Root"]


def content_object(content: bytes, number: int) -> Any:
    reader = PdfReader(io.BytesIO(content))
    return reader.get_object(number)


def test_invoice_factur_x_carries_its_cii_and_is_the_same_every_time() -> None:
    invoice = issued(_buyer(_seller()), _line("Microsoft 365 E3", "10", "36.00", "21.00"))

    content = invoice_facturx_pdf(invoice=invoice)

    assert content == invoice_facturx_pdf(invoice=invoice)
    filename, xml = get_facturx_xml_from_pdf(content, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml == invoice_cii(invoice=invoice)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert get_level(etree.fromstring(xml)) == "en16931"
    assert embedded_xml(content) == ("factur-x.xml", xml)


def test_the_pdf_declares_pdf_a_3b_factur_x_en_16931_and_the_data_relationship() -> None:
    invoice = issued(_buyer(_seller()), _line("Microsoft 365 E3", "10", "36.00", "21.00"))

    content = invoice_facturx_pdf(invoice=invoice)

    catalog = _catalog(content)
    xmp = catalog["/Metadata"].get_object().get_data()
    assert re.search(rb'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp)
    assert re.search(rb'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp)
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert b"<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    # WeasyPrint lists the one file spec twice in /AF (from the name tree and from the objects).
    (number,) = {reference.idnum for reference in catalog["/AF"]}
    associated = content_object(content, number)
    assert associated["/F"] == "factur-x.xml"
    assert associated["/AFRelationship"] == "/Data"
    assert associated["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"  # as Factur-X 1.0 asks
    assert content.startswith(b"%PDF-1.7")


def test_credit_note_factur_x_carries_its_type_381_cii() -> None:
    invoice = issued(_buyer(_seller()), _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    note = credit_note_issue(invoice=invoice, actor=None, reason="Seat cancelled", amount=Decimal("43.56"))

    content = credit_note_facturx_pdf(credit_note=note)

    _filename, xml = get_facturx_xml_from_pdf(content, check_xsd=True)
    assert xml == credit_note_cii(credit_note=note)
    assert content == credit_note_facturx_pdf(credit_note=note)


def test_a_draft_has_no_factur_x() -> None:
    with pytest.raises(ValueError, match="draft"):
        invoice_facturx_pdf(invoice=draft(_buyer(_seller())))
