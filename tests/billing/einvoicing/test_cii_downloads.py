"""The CII and Factur-X downloads as people reach them: staff and customer pages, the API, and nothing of
another tenant's or of a draft."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from facturx import get_facturx_xml_from_pdf

from billing.einvoicing.cii import credit_note_cii, invoice_cii
from billing.einvoicing.validation import validate_cii
from billing.invoicing.services import credit_note_issue
from tests.billing.einvoicing.test_ubl import _einvoice_tenant, _line
from tests.conftest import Tenant
from tests.factories.billing import draft, issued

pytestmark = pytest.mark.django_db


def test_staff_and_the_customer_download_cii_and_factur_x_for_invoices_and_credit_notes(
    tenant: Tenant, client_for: Any, api_for: Any
) -> None:
    _einvoice_tenant(tenant)
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    note = credit_note_issue(invoice=invoice, actor=None, reason="Seat cancelled", amount=Decimal("43.56"))

    xml_answers = (
        (api_for(tenant.finance).get(f"/api/v1/invoices/{invoice.pk}/cii/"), invoice_cii(invoice=invoice)),
        (client_for(tenant.customer_admin).get(f"/documents/invoices/{invoice.pk}-cii.xml"), invoice_cii(invoice=invoice)),
        (api_for(tenant.customer_member).get(f"/api/v1/credit-notes/{note.pk}/cii/"), credit_note_cii(credit_note=note)),
        (client_for(tenant.finance).get(f"/documents/credit-notes/{note.pk}-cii.xml"), credit_note_cii(credit_note=note)),
    )  # fmt: skip
    for response, expected in xml_answers:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/xml"
        assert response.content == expected
    assert validate_cii(xml_answers[0][0].content).fatal == ()

    pdf_answers = (
        (api_for(tenant.finance).get(f"/api/v1/invoices/{invoice.pk}/factur-x/"), invoice_cii(invoice=invoice)),
        (client_for(tenant.customer_admin).get(f"/documents/invoices/{invoice.pk}-factur-x.pdf"), invoice_cii(invoice=invoice)),
        (client_for(tenant.finance).get(f"/documents/credit-notes/{note.pk}-factur-x.pdf"), credit_note_cii(credit_note=note)),
    )  # fmt: skip
    for response, expected in pdf_answers:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        filename, xml = get_facturx_xml_from_pdf(response.content, check_xsd=False)
        assert (filename, xml) == ("factur-x.xml", expected)  # the API's XML, byte for byte


def test_the_pages_offer_the_formats_and_nobody_else_gets_them(tenant: Tenant, client_for: Any, api_for: Any) -> None:
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "1", "36.00", "20.00"))
    unissued = draft(tenant.customer)
    home = client_for(tenant.customer_admin).get("/my/").content.decode()
    assert f"/documents/invoices/{invoice.pk}-factur-x.pdf" in home
    assert f"/documents/invoices/{invoice.pk}-cii.xml" in home
    staff_page = client_for(tenant.finance).get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert f"/documents/invoices/{invoice.pk}-factur-x.pdf" in staff_page

    assert client_for(tenant.finance).get(f"/documents/invoices/{unissued.pk}-cii.xml").status_code == 404
    assert api_for(tenant.finance).get(f"/api/v1/invoices/{unissued.pk}/factur-x/").status_code == 404
    for path in (f"/documents/invoices/{invoice.pk}-cii.xml", f"/documents/invoices/{invoice.pk}-factur-x.pdf"):
        assert client_for(tenant.other_customer_admin).get(path).status_code == 404
    assert api_for(tenant.other_customer_admin).get(f"/api/v1/invoices/{invoice.pk}/cii/").status_code == 404
