"""The bulk export's "Include e-invoice XML": each issued invoice's Peppol BIS Billing 3.0 UBL goes into
the ZIP as <number>.xml beside its PDF; a draft never has one; without the option only PDFs go in."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from lxml import etree

from billing.einvoicing.ubl import CBC, invoice_ubl
from billing.invoicing.models import ExportJob
from billing.invoicing.selectors import InvoiceFilters
from billing.invoicing.services import invoice_pdf_export_request
from partner_portal.models import AuditEvent
from partner_portal.tenancy import scope_for_user
from tests.conftest import Tenant
from tests.factories.billing import draft, issued

pytestmark = pytest.mark.django_db

EXPORTS = "/staff/billing/exports/"


def _zip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _job_zip(job: ExportJob) -> dict[str, bytes]:
    with job.file.open("rb") as handle:
        return _zip(handle.read())


def test_the_option_adds_each_issued_invoices_ubl_and_never_a_drafts(
    tenant: Tenant, other_tenant: Tenant, on_commit: Any
) -> None:
    a, b = issued(tenant.customer), issued(tenant.other_customer)
    drafted = draft(tenant.customer)
    issued(other_tenant.customer)
    scope = scope_for_user(tenant.finance)
    with on_commit():
        job = invoice_pdf_export_request(scope=scope, filters=InvoiceFilters(), include_drafts=True, include_xml=True)
    job.refresh_from_db()
    assert (job.status, job.total, job.include_xml) == (ExportJob.Status.DONE, 3, True)
    files = _job_zip(job)
    assert sorted(files) == sorted(
        [f"{a.number}.pdf", f"{a.number}.xml", f"{b.number}.pdf", f"{b.number}.xml", f"draft-{drafted.pk}.pdf"]
    )
    assert files[f"{a.number}.xml"] == invoice_ubl(invoice=a)
    assert etree.fromstring(files[f"{b.number}.xml"]).findtext(f"{{{CBC}}}ID") == b.number
    assert files[f"{a.number}.pdf"].startswith(b"%PDF")
    event = AuditEvent.objects.get(action="export.requested", target_id=str(job.pk))
    assert (event.data["include_xml"], event.data["include_drafts"]) == (True, True)

    with on_commit():
        plain = invoice_pdf_export_request(scope=scope, filters=InvoiceFilters())
    plain.refresh_from_db()
    assert plain.include_xml is False
    assert sorted(_job_zip(plain)) == sorted([f"{a.number}.pdf", f"{b.number}.pdf"])


def test_the_export_page_offers_the_option_and_the_downloaded_zip_has_the_xml(
    tenant: Tenant, client_for: Any, api_for: Any, on_commit: Any
) -> None:
    invoice = issued(tenant.customer)
    client = client_for(tenant.finance)
    form = client.get(EXPORTS).content.decode()
    assert 'name="include_xml"' in form
    assert "Include e-invoice XML" in form

    with on_commit():
        response = client.post(EXPORTS, {"status": "issued", "include_xml": "on"})
    job = ExportJob.objects.get(partner=tenant.partner)
    assert (response.status_code, response["Location"]) == (302, f"{EXPORTS}{job.pk}/")
    detail = client.get(f"{EXPORTS}{job.pk}/").content.decode()
    assert "Include e-invoice XML" in detail  # in the summary of what was asked for
    download = client.get(f"{EXPORTS}{job.pk}/download/")
    files = _zip(b"".join(download.streaming_content))
    assert sorted(files) == sorted([f"{invoice.number}.pdf", f"{invoice.number}.xml"])
    assert files[f"{invoice.number}.xml"] == api_for(tenant.finance).get(f"/api/v1/invoices/{invoice.pk}/ubl/").content

    with on_commit():
        client.post(EXPORTS, {"status": "issued"})
    unticked = ExportJob.objects.filter(partner=tenant.partner).latest("pk")
    assert unticked.include_xml is False
    assert sorted(_zip(b"".join(client.get(f"{EXPORTS}{unticked.pk}/download/").streaming_content))) == [
        f"{invoice.number}.pdf"
    ]


def test_trying_a_failed_export_again_asks_for_the_xml_again(tenant: Tenant, client_for: Any) -> None:
    job = ExportJob.objects.create(
        partner=tenant.partner, requested_by=tenant.finance, status=ExportJob.Status.FAILED,
        filters={"status": "issued"}, include_xml=True,
    )  # fmt: skip
    detail = client_for(tenant.finance).get(f"{EXPORTS}{job.pk}/").content.decode()
    assert '<input type="hidden" name="include_xml" value="on">' in detail
    assert '<input type="hidden" name="include_drafts"' not in detail


def test_another_partners_export_with_xml_is_not_found(
    tenant: Tenant, other_tenant: Tenant, client_for: Any, on_commit: Any
) -> None:
    issued(other_tenant.customer)
    with on_commit():
        job = invoice_pdf_export_request(
            scope=scope_for_user(other_tenant.finance), filters=InvoiceFilters(), include_xml=True
        )
    client = client_for(tenant.finance)
    for path in (f"{EXPORTS}{job.pk}/", f"{EXPORTS}{job.pk}/download/", f"{EXPORTS}{job.pk}/status/"):
        assert client.get(path).status_code == 404
