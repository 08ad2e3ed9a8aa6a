"""Factur-X 1.0 / ZUGFeRD 2.x (EN 16931 profile): the invoice or credit-note PDF the portal renders,
written by WeasyPrint as PDF/A-3b with the CII XML of `cii` embedded as `factur-x.xml`
(AFRelationship /Data, listed in the catalogue's /AF) and the Factur-X XMP properties with their
PDF/A extension schema description.

Reproducible: the same document gives the same bytes. The PDF's dates (info dictionary and XMP) are
the document's own creation time from the template, the embedded file's dates are the same time, and
the PDF/A file identifier WeasyPrint writes is a digest of the content, not a random value.

Reading a Factur-X back (`embedded_xml`) uses the `factur-x` library, which is also what the tests use
to check that the embedded XML is the exact XML the downloads serve.
"""

from __future__ import annotations

import datetime as dt

import weasyprint
from django.utils import timezone

from billing.einvoicing import cii
from billing.invoicing import pdf
from billing.invoicing.models import CreditNote, Invoice

FACTURX_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
CONFORMANCE_LEVEL = "EN 16931"
PDF_VARIANT = "pdf/a-3b"

# The XMP the Factur-X 1.0 specification requires (section 6.2.2, "XMP extension schema"): the fx
# properties and, for PDF/A-3, the extension schema that declares them. WeasyPrint puts it beside its
# own PDF/A identification in the document's metadata stream.
_XMP = """<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:fx="{ns}">
    <fx:DocumentType>INVOICE</fx:DocumentType>
    <fx:DocumentFileName>{filename}</fx:DocumentFileName>
    <fx:Version>1.0</fx:Version>
    <fx:ConformanceLevel>{level}</fx:ConformanceLevel>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
      xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
    <pdfaExtension:schemas>
      <rdf:Bag>
        <rdf:li rdf:parseType="Resource">
          <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
          <pdfaSchema:namespaceURI>{ns}</pdfaSchema:namespaceURI>
          <pdfaSchema:prefix>fx</pdfaSchema:prefix>
          <pdfaSchema:property>
            <rdf:Seq>{properties}
            </rdf:Seq>
          </pdfaSchema:property>
        </rdf:li>
      </rdf:Bag>
    </pdfaExtension:schemas>
  </rdf:Description>
</rdf:RDF>"""

_PROPERTY = """
              <rdf:li rdf:parseType="Resource">
                <pdfaProperty:name>{name}</pdfaProperty:name>
                <pdfaProperty:valueType>Text</pdfaProperty:valueType>
                <pdfaProperty:category>external</pdfaProperty:category>
                <pdfaProperty:description>{description}</pdfaProperty:description>
              </rdf:li>"""

_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)


def facturx_xmp() -> bytes:
    properties = "".join(_PROPERTY.format(name=name, description=text) for name, text in _PROPERTIES)
    xmp = _XMP.format(ns=FACTURX_NS, filename=cii.FACTURX_FILENAME, level=CONFORMANCE_LEVEL, properties=properties)
    return xmp.encode("utf-8")


def invoice_facturx_pdf(*, invoice: Invoice) -> bytes:
    """The issued invoice's PDF as a Factur-X (PDF/A-3b with its CII inside). A draft has none."""
    xml = cii.invoice_cii(invoice=invoice)  # refuses a draft
    created = invoice.issued_at or invoice.created_at
    return _facturx(pdf.invoice_html(invoice=invoice), xml, created=created, title=invoice.number)


def credit_note_facturx_pdf(*, credit_note: CreditNote) -> bytes:
    """The credit note's PDF as a Factur-X (type 381 CII inside)."""
    xml = cii.credit_note_cii(credit_note=credit_note)
    html = pdf.credit_note_html(credit_note=credit_note)
    return _facturx(html, xml, created=credit_note.created_at, title=credit_note.number)


def invoice_facturx_filename(invoice: Invoice) -> str:
    return f"{invoice.number}-facturx.pdf"


def credit_note_facturx_filename(credit_note: CreditNote) -> str:
    return f"{credit_note.number}-facturx.pdf"


def embedded_xml(content: bytes) -> tuple[str, bytes]:
    """The file name and bytes of the XML a Factur-X (or ZUGFeRD) PDF carries."""
    from facturx import get_xml_from_pdf  # pypdf loads on first use

    filename, xml = get_xml_from_pdf(content, check_xsd=False)
    return filename, xml


def _facturx(html: str, xml: bytes, *, created: dt.datetime, title: str) -> bytes:
    document = pdf.pdf_document(html)
    document.metadata.xmp_metadata.append(facturx_xmp())
    # The embedded file's dates are the document's own (WeasyPrint writes them as UTC).
    when = timezone.localtime(created, dt.UTC).replace(tzinfo=None)
    attachment = weasyprint.Attachment(
        string=xml,
        name=cii.FACTURX_FILENAME,
        description=f"Factur-X invoice data of {title}",
        created=when,
        modified=when,
        relationship="Data",
    )
    content: bytes = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=[attachment])
    return content
