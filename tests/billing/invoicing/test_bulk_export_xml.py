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


API = "/api/v1/invoice-exports/"


def test_the_api_starts_an_export_with_the_xml_and_serves_its_zip(tenant: Tenant, api_for: Any, on_commit: Any) -> None:
    invoice = issued(tenant.customer)
    drafted = draft(tenant.customer)
    api = api_for(tenant.finance)
    with on_commit():
        response = api.post(API, {"include_xml": True, "include_drafts": True}, format="json")
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    assert (response.json()["include_xml"], response.json()["total"]) == (True, 2)
    done = api.get(f"{API}{job_id}/").json()
    assert (done["status"], done["percent"], done["download_url"]) == ("done", 100, f"{API}{job_id}/download/")
    download = api.get(done["download_url"])
    assert (download.status_code, download["Content-Type"]) == (200, "application/zip")
    files = _zip(b"".join(download.streaming_content))
    assert sorted(files) == sorted([f"{invoice.number}.pdf", f"{invoice.number}.xml", f"draft-{drafted.pk}.pdf"])
    assert files[f"{invoice.number}.xml"] == api.get(f"/api/v1/invoices/{invoice.pk}/ubl/").content
    assert [row["id"] for row in api.get(API).json()["results"]] == [job_id]

    with on_commit():
        plain = api.post(API, {"status": "issued"}, format="json").json()
    assert plain["include_xml"] is False
    assert sorted(_zip(b"".join(api.get(f"{API}{plain['id']}/download/").streaming_content))) == [
        f"{invoice.number}.pdf"
    ]


def test_the_api_refuses_an_empty_selection_and_bad_input(tenant: Tenant, api_for: Any) -> None:
    issued(tenant.customer)
    api = api_for(tenant.finance)
    response = api.post(API, {"period": "2001-01"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "No invoice matches these filters: there is nothing to export."
    response = api.post(API, {"include_xml": "maybe"}, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["include_xml"])
    assert not ExportJob.objects.exists()


def test_an_unfinished_export_has_no_download(tenant: Tenant, api_for: Any) -> None:
    job = ExportJob.objects.create(partner=tenant.partner, requested_by=tenant.finance, total=3, include_xml=True)
    api = api_for(tenant.finance)
    assert api.get(f"{API}{job.pk}/").json()["download_url"] is None
    assert api.get(f"{API}{job.pk}/download/").status_code == 404


@pytest.mark.parametrize("role", ["agent", "customer_admin", "customer_member"])
def test_only_finance_and_admins_export_through_the_api(tenant: Tenant, api_for: Any, role: str) -> None:
    issued(tenant.customer)
    api = api_for(getattr(tenant, role))
    assert api.post(API, {"include_xml": True}, format="json").status_code == 403
    assert api.get(API).status_code == 403
    assert not ExportJob.objects.exists()


def test_another_partners_export_is_not_found_through_the_api(
    tenant: Tenant, other_tenant: Tenant, api_for: Any, on_commit: Any
) -> None:
    issued(other_tenant.customer)
    with on_commit():
        job = invoice_pdf_export_request(
            scope=scope_for_user(other_tenant.finance), filters=InvoiceFilters(), include_xml=True
        )
    api = api_for(tenant.finance)
    assert api.get(f"{API}{job.pk}/").status_code == 404
    assert api.get(f"{API}{job.pk}/download/").status_code == 404
    assert api.get(API).json()["results"] == []
    assert api.post(API, {"customer": other_tenant.customer.pk}, format="json").status_code == 400  # selects nothing


def test_the_openapi_schema_documents_the_xml_option(db: None) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["components"]["schemas"]["InvoiceExportInput"]["properties"]
    assert body["include_xml"]["type"] == "boolean"
    assert "UBL" in body["include_xml"]["description"]
    assert "post" in schema["paths"]["/api/v1/invoice-exports/"]


def test_the_api_list_runs_a_fixed_number_of_queries(
    tenant: Tenant, api_for: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(12):
        ExportJob.objects.create(partner=tenant.partner, requested_by=tenant.finance, total=1)
    api = api_for(tenant.finance)
    with django_assert_max_num_queries(10):
        response = api.get(f"{API}?page_size=5")
    assert len(response.json()["results"]) == 5
    with django_assert_max_num_queries(10):
        assert len(api.get(response.json()["next"]).json()["results"]) == 5


def test_the_export_api_takes_json_only_so_a_blank_filter_is_refused_not_ignored(tenant, api_for) -> None:
    client = api_for(tenant.finance)
    form = client.post("/api/v1/invoice-exports/", {"period": "", "status": "issued"}, format="multipart")
    assert form.status_code == 415
    blank = client.post("/api/v1/invoice-exports/", {"period": ""}, format="json")
    assert blank.status_code == 400
    assert "period" in blank.json()["fields"]
