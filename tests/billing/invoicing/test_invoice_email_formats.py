"""The invoice email carries what the customer's e-invoice format asks for: the PDF, the Factur-X PDF
in its place, or the PDF and the UBL XML; the invoice's history names the files that went."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from facturx import get_facturx_xml_from_pdf
from lxml import etree

from billing.einvoicing.ubl import CBC
from billing.invoicing.services import invoice_send_request
from partner_portal.models import AuditEvent, Customer, EinvoiceFormat
from tests.billing.einvoicing.test_ubl import _einvoice_tenant, _line
from tests.conftest import Tenant
from tests.factories.billing import draft, issued

pytestmark = pytest.mark.django_db

UBL_INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"


def _customer_wants(tenant: Tenant, fmt: str) -> None:
    Customer.objects.filter(pk=tenant.customer.pk).update(
        billing_email="ap@alpha-customer.example", einvoice_format=fmt
    )
    tenant.customer.refresh_from_db()


def _send(tenant: Tenant, on_commit: Any, invoice: Any) -> Any:
    mail.outbox.clear()
    with on_commit():
        invoice_send_request(invoice=invoice, actor=tenant.finance)
    [message] = mail.outbox
    return message


def test_pdf_only_attaches_the_plain_pdf(tenant: Tenant, api_for: Any, on_commit: Any) -> None:
    _einvoice_tenant(tenant)
    _customer_wants(tenant, EinvoiceFormat.PDF)
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    message = _send(tenant, on_commit, invoice)
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content == api_for(tenant.finance).get(f"/api/v1/invoices/{invoice.pk}/pdf/").content
    assert get_facturx_xml_from_pdf(content, check_xsd=False) == (False, False)  # a plain PDF carries no XML
    event = AuditEvent.objects.get(action="invoice.sent", target_id=str(invoice.pk))
    assert (event.data["format"], event.data["attachments"]) == ("pdf", [f"{invoice.number}.pdf"])


def test_factur_x_goes_in_place_of_the_pdf_and_carries_the_apis_cii(
    tenant: Tenant, api_for: Any, client_for: Any, on_commit: Any
) -> None:
    _einvoice_tenant(tenant)
    _customer_wants(tenant, EinvoiceFormat.FACTURX)
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    message = _send(tenant, on_commit, invoice)
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    api = api_for(tenant.finance)
    embedded_name, xml = get_facturx_xml_from_pdf(content, check_xsd=False)
    assert (embedded_name, xml) == ("factur-x.xml", api.get(f"/api/v1/invoices/{invoice.pk}/cii/").content)
    assert content == api.get(f"/api/v1/invoices/{invoice.pk}/factur-x/").content  # the download, byte for byte

    history = client_for(tenant.finance).get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert f"To ap@alpha-customer.example · Attached: {invoice.number}.pdf" in history


def test_ubl_attaches_the_pdf_and_the_apis_ubl_xml(
    tenant: Tenant, api_for: Any, client_for: Any, on_commit: Any
) -> None:
    _einvoice_tenant(tenant)
    _customer_wants(tenant, EinvoiceFormat.UBL)
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "10", "36.00", "21.00"))
    message = _send(tenant, on_commit, invoice)
    [(pdf_name, pdf_content, pdf_type), (xml_name, xml_content, xml_type)] = message.attachments
    assert (pdf_name, pdf_type) == (f"{invoice.number}.pdf", "application/pdf")
    assert pdf_content[:4] == b"%PDF"
    assert (xml_name, xml_type) == (f"{invoice.number}.xml", "application/xml")
    root = etree.fromstring(xml_content)
    assert root.tag == UBL_INVOICE
    assert root.findtext(f"{{{CBC}}}ID") == invoice.number
    assert root.findtext(f"{{{CBC}}}DocumentCurrencyCode") == "EUR"
    assert root.findtext(f".//{{{CBC}}}PayableAmount") == "435.60"
    assert xml_content == api_for(tenant.finance).get(f"/api/v1/invoices/{invoice.pk}/ubl/").content

    event = AuditEvent.objects.get(action="invoice.sent", target_id=str(invoice.pk))
    assert event.data["attachments"] == [f"{invoice.number}.pdf", f"{invoice.number}.xml"]
    history = client_for(tenant.finance).get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert f"Attached: {invoice.number}.pdf, {invoice.number}.xml" in history


def test_send_again_follows_a_format_changed_since_issue(tenant: Tenant, client_for: Any, on_commit: Any) -> None:
    _einvoice_tenant(tenant)
    _customer_wants(tenant, EinvoiceFormat.PDF)
    invoice = draft(tenant.customer, _line("Microsoft 365 E3", "1", "36.00", "21.00"))
    client = client_for(tenant.finance)
    mail.outbox.clear()
    with on_commit():
        client.post(f"/staff/billing/invoices/{invoice.pk}/issue/")
    invoice.refresh_from_db()
    assert [name for name, *_ in mail.outbox[0].attachments] == [f"{invoice.number}.pdf"]

    _customer_wants(tenant, EinvoiceFormat.UBL)
    with on_commit():
        client.post(f"/staff/billing/invoices/{invoice.pk}/send/")
    assert [(name, kind) for name, _content, kind in mail.outbox[1].attachments] == [
        (f"{invoice.number}.pdf", "application/pdf"),
        (f"{invoice.number}.xml", "application/xml"),
    ]
    sends = AuditEvent.objects.filter(action="invoice.sent", target_id=str(invoice.pk)).order_by("pk")
    assert [(e.data["again"], e.data["format"]) for e in sends] == [(False, "pdf"), (True, "ubl")]


def test_the_russian_history_names_the_files(tenant: Tenant, client_for: Any, on_commit: Any) -> None:
    _einvoice_tenant(tenant)
    _customer_wants(tenant, EinvoiceFormat.UBL)
    invoice = issued(tenant.customer, _line("Microsoft 365 E3", "1", "36.00", "21.00"))
    _send(tenant, on_commit, invoice)
    client = client_for(tenant.finance)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/staff/"})
    page = client.get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert f"Вложения: {invoice.number}.pdf, {invoice.number}.xml" in page
