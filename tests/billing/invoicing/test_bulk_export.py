"""Bulk PDF export: a job builds a ZIP of the selected invoices with its progress in the database."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from billing.invoicing.models import ExportJob
from billing.invoicing.selectors import InvoiceFilters
from billing.invoicing.services import invoice_pdf_export_request, invoice_pdf_export_run
from partner_portal import clock
from partner_portal.tenancy import scope_for_user
from tests.conftest import Tenant
from tests.factories.billing import draft, issued

pytestmark = pytest.mark.django_db


def test_the_job_zips_every_selected_invoice_and_reports_done(tenant: Tenant, other_tenant: Tenant, on_commit) -> None:
    a, b = issued(tenant.customer), issued(tenant.other_customer)
    draft(tenant.customer)
    issued(other_tenant.customer)
    with on_commit():  # the task runs (eagerly) when the request's transaction commits
        job = invoice_pdf_export_request(scope=scope_for_user(tenant.finance), filters=InvoiceFilters(status="issued"))
    job.refresh_from_db()
    assert (job.status, job.total, job.done, job.percent) == (ExportJob.Status.DONE, 2, 2, 100)
    with job.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        assert sorted(archive.namelist()) == sorted([f"{a.number}.pdf", f"{b.number}.pdf"])
        assert archive.read(f"{a.number}.pdf").startswith(b"%PDF")


def _zip_names(job: ExportJob) -> list[str]:
    with job.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        return sorted(archive.namelist())


def test_drafts_stay_out_of_an_export_unless_asked_for(tenant: Tenant, on_commit) -> None:
    kept = issued(tenant.customer)
    drafted = draft(tenant.customer)
    scope = scope_for_user(tenant.finance)
    with on_commit():
        plain = invoice_pdf_export_request(scope=scope, filters=InvoiceFilters())
    plain.refresh_from_db()
    assert (plain.status, plain.total, plain.include_drafts) == (ExportJob.Status.DONE, 1, False)
    assert _zip_names(plain) == [f"{kept.number}.pdf"]
    with on_commit():
        asked = invoice_pdf_export_request(scope=scope, filters=InvoiceFilters(), include_drafts=True)
    asked.refresh_from_db()
    assert (asked.status, asked.total) == (ExportJob.Status.DONE, 2)
    assert _zip_names(asked) == sorted([f"{kept.number}.pdf", f"draft-{drafted.pk}.pdf"])
    with on_commit():  # filtering on the draft status asks for drafts too
        only_drafts = invoice_pdf_export_request(scope=scope, filters=InvoiceFilters(status="draft"))
    only_drafts.refresh_from_db()
    assert _zip_names(only_drafts) == [f"draft-{drafted.pk}.pdf"]


def test_running_it_again_or_on_a_second_worker_does_nothing(tenant: Tenant) -> None:
    issued(tenant.customer)
    job = ExportJob.objects.create(partner=tenant.partner, requested_by=tenant.finance, total=1)
    done = invoice_pdf_export_run(job_id=job.pk)
    first_file = done.file.name
    again = invoice_pdf_export_run(job_id=job.pk)
    assert again.status == ExportJob.Status.DONE
    assert again.file.name == first_file


def test_a_job_left_running_by_a_dead_worker_is_taken_over(tenant: Tenant) -> None:
    issued(tenant.customer)
    long_ago = clock.now() - dt.timedelta(hours=1)
    job = ExportJob.objects.create(
        partner=tenant.partner,
        requested_by=tenant.finance,
        total=1,
        status=ExportJob.Status.RUNNING,
        started_at=long_ago,
    )
    assert invoice_pdf_export_run(job_id=job.pk).status == ExportJob.Status.DONE
    fresh = ExportJob.objects.create(
        partner=tenant.partner,
        requested_by=tenant.finance,
        total=1,
        status=ExportJob.Status.RUNNING,
        started_at=clock.now(),
    )
    assert invoice_pdf_export_run(job_id=fresh.pk).status == ExportJob.Status.RUNNING


def test_a_requester_who_lost_access_gets_a_failed_job(tenant: Tenant) -> None:
    job = ExportJob.objects.create(partner=tenant.partner, requested_by=tenant.finance, total=0)
    tenant.finance.is_active = False
    tenant.finance.save()
    with pytest.raises(PermissionError):
        invoice_pdf_export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert "no longer has access" in job.error


def test_in_parts_the_zip_holds_the_same_files_pdfs_stored_as_rendered_xml_deflated(
    tenant: Tenant, on_commit, settings
) -> None:
    invoices = [issued(tenant.customer) for _ in range(3)]
    scope = scope_for_user(tenant.finance)
    with on_commit():
        whole = invoice_pdf_export_request(scope=scope, filters=InvoiceFilters(), include_xml=True)
    settings.INVOICE_EXPORT_PART_SIZE = 1  # three parts, merged by the last one done
    with on_commit():
        parted = invoice_pdf_export_request(scope=scope, filters=InvoiceFilters(), include_xml=True)
    whole.refresh_from_db()
    parted.refresh_from_db()
    assert (parted.status, parted.done) == (ExportJob.Status.DONE, 3)
    with parted.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        assert archive.testzip() is None  # every file's checksum holds
        kinds = {name: archive.getinfo(name).compress_type for name in archive.namelist()}
        files = {name: archive.read(name) for name in archive.namelist()}
    # A PDF's streams are compressed already: it goes in as it is, and the merge copies it unchanged.
    assert kinds == {
        **{f"{i.number}.pdf": zipfile.ZIP_STORED for i in invoices},
        **{f"{i.number}.xml": zipfile.ZIP_DEFLATED for i in invoices},
    }
    with whole.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        assert sorted(files) == sorted(archive.namelist())
        assert all(files[n] == archive.read(n) for n in files if n.endswith(".xml"))
        assert all(files[n].startswith(b"%PDF") for n in files if n.endswith(".pdf"))
