"""The demo's e-invoicing partner issues every case EN 16931 asks the portal to handle, and each of its
documents passes the official CEN rules (UBL and CII) and the Peppol BIS rules (UBL) with no fatal
finding: what a new partner sees in `make demo` is what CI proves."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from facturx import get_facturx_xml_from_pdf
from lxml import etree

from billing.einvoicing.cii import credit_note_cii, invoice_cii
from billing.einvoicing.facturx import invoice_facturx_pdf
from billing.einvoicing.ubl import CBC, credit_note_ubl, invoice_ubl
from billing.einvoicing.validation import validate_cii, validate_ubl
from billing.invoicing.models import CreditNote, Invoice

pytestmark = pytest.mark.django_db


def _fatal(report) -> list[tuple[str, str]]:
    return [(f.rule, f.text) for f in report.fatal]


def test_every_demo_e_invoice_and_credit_note_passes_the_cen_and_peppol_rules() -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    invoices = list(Invoice.objects.filter(partner__slug="woodgrove").prefetch_related("lines").order_by("pk"))
    notes = list(CreditNote.objects.filter(partner__slug="woodgrove"))

    categories = {line.vat_category for invoice in invoices for line in invoice.lines.all()}
    assert {"S", "AE", "G", "E"} <= categories  # domestic, reverse charge, export, exempt
    assert any(len({line.tax_rate for line in invoice.lines.all()}) > 1 for invoice in invoices)  # mixed rates
    assert len(notes) == 1
    assert notes[0].amount < notes[0].invoice.total  # a partial credit
    tax_currencies = []
    for invoice in invoices:
        ubl = invoice_ubl(invoice=invoice)
        assert _fatal(validate_ubl(ubl)) == [], invoice.number
        assert _fatal(validate_cii(invoice_cii(invoice=invoice))) == [], invoice.number
        tax_currencies += etree.fromstring(ubl).xpath("//cbc:TaxCurrencyCode/text()", namespaces={"cbc": CBC})
    assert tax_currencies == ["EUR"]  # the dollar invoice states its tax in euros
    for note in notes:
        assert _fatal(validate_ubl(credit_note_ubl(credit_note=note))) == [], note.number
        assert _fatal(validate_cii(credit_note_cii(credit_note=note))) == [], note.number

    reverse_charge = next(i for i in invoices if i.customer.country == "DE")
    _found, xml = get_facturx_xml_from_pdf(invoice_facturx_pdf(invoice=reverse_charge), check_xsd=True)
    assert xml == invoice_cii(invoice=reverse_charge)
