"""Bulk export of invoice PDFs as one ZIP, built by a worker with its progress in the database; on
request each issued invoice's Peppol BIS Billing 3.0 UBL goes beside its PDF as <number>.xml."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import zipfile

from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from billing.einvoicing import ubl
from billing.invoicing import pdf
from billing.invoicing.errors import InvoiceExportEmpty
from billing.invoicing.models import ExportJob
from billing.invoicing.selectors import InvoiceFilters, invoice_export_list
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.tenancy import Scope, scope_for_user

# A job still "running" this long after it started is taken to have died with its worker.
STALE_AFTER = dt.timedelta(minutes=30)
PROGRESS_EVERY = 5  # invoices between progress updates: one small UPDATE each time


@transaction.atomic
def invoice_pdf_export_request(
    *, scope: Scope, filters: InvoiceFilters, include_drafts: bool = False, include_xml: bool = False
) -> ExportJob:
    """Queue a ZIP of the PDFs of the invoices `filters` selects, as the requester sees them.
    Drafts are left out unless `include_drafts` (or the status filter asks for drafts). With
    `include_xml` each issued invoice's UBL XML goes beside its PDF; a draft has none, so never one.
    Refuses filters that select no invoice (InvoiceExportEmpty)."""
    from billing.invoicing.tasks import invoice_pdf_export_task  # tasks import the services

    total = invoice_export_list(scope=scope, filters=filters, include_drafts=include_drafts).count()
    if total == 0:
        raise InvoiceExportEmpty(_("No invoice matches these filters: there is nothing to export."))
    job = ExportJob.objects.create(
        partner=scope.partner,
        requested_by=scope.user,
        filters=dataclasses.asdict(filters),
        include_drafts=include_drafts,
        include_xml=include_xml,
        total=total,
    )
    audit_record(
        partner=scope.partner, actor=scope.user, action="export.requested", target=job,
        data={"invoices": total, "include_drafts": include_drafts, "include_xml": include_xml},
    )  # fmt: skip
    transaction.on_commit(lambda: invoice_pdf_export_task.delay(job_id=job.pk))
    return job


def _claim(job_id: int) -> bool:
    """Move the job to running; only the worker whose UPDATE changed the row goes on."""
    now = clock.now()
    claimable = Q(status=ExportJob.Status.PENDING) | Q(
        status=ExportJob.Status.RUNNING, started_at__lt=now - STALE_AFTER
    )
    return (
        ExportJob.objects.filter(claimable, pk=job_id).update(status=ExportJob.Status.RUNNING, started_at=now, done=0)
        == 1
    )


def invoice_pdf_export_run(*, job_id: int) -> ExportJob:
    """Render every selected invoice into a ZIP. Safe to call twice or on two workers: one runs it."""
    if not _claim(job_id):
        return ExportJob.objects.get(pk=job_id)
    job = ExportJob.objects.select_related("partner", "requested_by").get(pk=job_id)
    scope = scope_for_user(job.requested_by)
    try:
        if scope is None or scope.partner.pk != job.partner_id:
            raise PermissionError("the requester no longer has access to this partner")
        filters = InvoiceFilters(**job.filters)
        invoices = invoice_export_list(scope=scope, filters=filters, include_drafts=job.include_drafts).order_by(
            "issue_date", "number", "pk"
        )
        with tempfile.TemporaryFile() as buffer:
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                names: set[str] = set()
                for n, invoice in enumerate(invoices.iterator(chunk_size=200), start=1):
                    name = pdf.invoice_pdf_filename(invoice)
                    if name in names:  # drafts share no number; keep every file
                        name = f"{invoice.pk}-{name}"
                    names.add(name)
                    archive.writestr(name, pdf.invoice_pdf(invoice=invoice))
                    if job.include_xml and not invoice.is_draft:  # issued numbers are unique: no clash
                        archive.writestr(ubl.invoice_ubl_filename(invoice), ubl.invoice_ubl(invoice=invoice))
                    if n % PROGRESS_EVERY == 0:
                        ExportJob.objects.filter(pk=job.pk).update(done=n)
            buffer.seek(0)
            job.file.save(f"{job.partner_id}/invoices-{job.pk}.zip", File(buffer), save=False)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE, done=F("total"), file=job.file.name, finished_at=clock.now()
        )
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:2000], finished_at=clock.now()
        )
        raise
    job.refresh_from_db()
    return job
