"""Bulk export of invoice PDFs as one ZIP, built by a worker with its progress in the database; on
request each issued invoice's Peppol BIS Billing 3.0 UBL goes beside its PDF as <number>.xml."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import zipfile
from collections.abc import Iterator
from functools import partial

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from billing.einvoicing import ubl
from billing.invoicing import pdf
from billing.invoicing.errors import InvoiceExportEmpty
from billing.invoicing.models import ExportJob, ExportPart, Invoice
from billing.invoicing.selectors import InvoiceFilters, invoice_export_list
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.tenancy import Scope, scope_for_user

# A job still "running" this long after it started is taken to have died with its worker.
STALE_AFTER = dt.timedelta(minutes=30)
PROGRESS_EVERY = 5  # invoices between progress updates: one small UPDATE each time
READ_BATCH = 200  # invoices read at a time for rendering


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


def _export_invoices(job: ExportJob, scope: Scope | None) -> list[int]:
    """The job's invoices in export order, as the requester sees them now."""
    if scope is None or scope.partner.pk != job.partner_id:
        raise PermissionError("the requester no longer has access to this partner")
    filters = InvoiceFilters(**job.filters)
    invoices = invoice_export_list(scope=scope, filters=filters, include_drafts=job.include_drafts)
    return list(invoices.order_by("issue_date", "number", "pk").values_list("pk", flat=True))


def _compression(name: str) -> int:
    """How a file goes into an export's ZIP: a PDF as it is (its streams are compressed already:
    deflating it again saves a few per cent for the time of a second compression, paid again at the
    merge of parts), the XML deflated."""
    return zipfile.ZIP_STORED if name.lower().endswith(".pdf") else zipfile.ZIP_DEFLATED


def _write(archive: zipfile.ZipFile, invoice: Invoice, names: set[str], include_xml: bool) -> None:
    name = pdf.invoice_pdf_filename(invoice)
    if name in names:  # drafts share no number; keep every file
        name = f"{invoice.pk}-{name}"
    names.add(name)
    archive.writestr(name, pdf.invoice_pdf(invoice=invoice), compress_type=_compression(name))
    if include_xml and not invoice.is_draft:  # issued numbers are unique: no clash
        xml_name = ubl.invoice_ubl_filename(invoice)
        archive.writestr(xml_name, ubl.invoice_ubl(invoice=invoice), compress_type=_compression(xml_name))


def _rendered(ids: list[int]) -> Iterator[Invoice]:
    """The invoices of `ids` in that order, read a batch at a time with what the PDF shows."""
    for start in range(0, len(ids), READ_BATCH):
        batch = ids[start : start + READ_BATCH]
        found = Invoice.objects.select_related("customer", "partner").prefetch_related("lines").in_bulk(batch)
        yield from (found[pk] for pk in batch if pk in found)


def _failed(job_id: int, exc: Exception) -> None:
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.FAILED, error=str(exc)[:2000], finished_at=clock.now()
    )


def invoice_pdf_export_run(*, job_id: int) -> ExportJob:
    """Render every selected invoice into a ZIP. Safe to call twice or on two workers: one runs it.

    Up to `settings.INVOICE_EXPORT_PART_SIZE` invoices render here; a larger export is cut into parts
    of that size, one task each, so every free worker renders a share (`invoice_pdf_export_part_run`);
    the worker finishing the last part merges them into the job's ZIP."""
    if not _claim(job_id):
        return ExportJob.objects.get(pk=job_id)
    job = ExportJob.objects.select_related("partner", "requested_by").get(pk=job_id)
    try:
        ids = _export_invoices(job, scope_for_user(job.requested_by))
        size = max(1, settings.INVOICE_EXPORT_PART_SIZE)
        if len(ids) > size:
            _parts_start(job, ids, size)
            job.refresh_from_db()
            return job
        with tempfile.TemporaryFile() as buffer:
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                names: set[str] = set()
                for n, invoice in enumerate(_rendered(ids), start=1):
                    _write(archive, invoice, names, job.include_xml)
                    if n % PROGRESS_EVERY == 0:
                        ExportJob.objects.filter(pk=job.pk).update(done=n)
            buffer.seek(0)
            job.file.save(f"{job.partner_id}/invoices-{job.pk}.zip", File(buffer), save=False)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE, total=len(ids), done=len(ids), file=job.file.name, finished_at=clock.now()
        )
    except Exception as exc:
        _failed(job.pk, exc)
        raise
    job.refresh_from_db()
    return job


def _parts_start(job: ExportJob, ids: list[int], size: int) -> None:
    """Cut the job into parts (kept if a previous attempt made them) and queue those not done."""
    from billing.invoicing.tasks import invoice_pdf_export_part_task  # tasks import the services

    with transaction.atomic():
        ExportJob.objects.filter(pk=job.pk).update(total=len(ids))
        ExportPart.objects.bulk_create(
            [ExportPart(partner_id=job.partner_id, job=job, seq=n, invoice_ids=ids[start : start + size]) for n, start in enumerate(range(0, len(ids), size))],
            ignore_conflicts=True,
        )  # fmt: skip
        _progress(job.pk)
        waiting = list(
            ExportPart.objects.filter(job=job).exclude(status=ExportPart.Status.DONE).values_list("pk", flat=True)
        )
        for part_id in waiting:
            transaction.on_commit(partial(invoice_pdf_export_part_task.delay, part_id=part_id))
    if not waiting:  # every part was done when a worker died before merging
        _parts_merge(job.pk)


def _progress(job_id: int) -> None:
    """The job's progress: the invoices rendered by all its parts (a part started again counts from 0)."""
    rendered = ExportPart.objects.filter(job_id=job_id).order_by().values("job").annotate(n=Sum("done")).values("n")
    ExportJob.objects.filter(pk=job_id).update(done=Coalesce(Subquery(rendered), 0))


def _part_claim(part_id: int) -> bool:
    now = clock.now()
    claimable = Q(status=ExportPart.Status.PENDING) | Q(
        status=ExportPart.Status.RUNNING, started_at__lt=now - STALE_AFTER
    )
    claimed = ExportPart.objects.filter(claimable, pk=part_id, job__status=ExportJob.Status.RUNNING).update(
        status=ExportPart.Status.RUNNING, started_at=now, done=0
    )
    return claimed == 1


def invoice_pdf_export_part_run(*, part_id: int) -> ExportPart:
    """Render one part of a large export into its own ZIP; the last part done merges them all.
    Safe to call twice or on two workers: one renders it, and a part already done is not rendered again."""
    part = ExportPart.objects.select_related("job").get(pk=part_id)
    if not _part_claim(part_id):
        if part.status == ExportPart.Status.DONE:
            _parts_merge(part.job_id)  # a retry after rendering: make sure the merge happened
        return part
    job = part.job
    try:
        with tempfile.TemporaryFile() as buffer:
            # Each file compressed as it will be in the job's ZIP, which then copies it as it is.
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
                names: set[str] = set()
                for n, invoice in enumerate(_rendered(part.invoice_ids), start=1):
                    _write(archive, invoice, names, job.include_xml)
                    if n % PROGRESS_EVERY == 0:
                        ExportPart.objects.filter(pk=part.pk).update(done=n)
                        _progress(job.pk)
            buffer.seek(0)
            part.file.save(f"{job.partner_id}/invoices-{job.pk}-part-{part.seq}.zip", File(buffer), save=False)
        ExportPart.objects.filter(pk=part.pk).update(
            status=ExportPart.Status.DONE, done=len(part.invoice_ids), file=part.file.name, finished_at=clock.now()
        )
        _progress(job.pk)
        _parts_merge(job.pk)
    except Exception as exc:
        _failed(job.pk, exc)
        raise
    part.refresh_from_db()
    return part


def _copy(piece: zipfile.ZipFile, info: zipfile.ZipInfo, archive: zipfile.ZipFile, name: str) -> None:
    """One file of a part into the job's ZIP, compressed as the part has it (a PDF stored: a copy of
    its bytes; nothing is compressed again)."""
    entry = zipfile.ZipInfo(name, date_time=info.date_time)
    entry.compress_type = info.compress_type
    entry.external_attr = info.external_attr
    with piece.open(info) as source, archive.open(entry, "w") as target:
        while chunk := source.read(1 << 20):
            target.write(chunk)


def _parts_merge(job_id: int) -> None:
    """Once every part is done, one ZIP of them all in export order; the job row's lock makes sure
    a single worker merges. The parts' files go once the job's ZIP is saved."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        parts = list(ExportPart.objects.filter(job=job).order_by("seq"))
        if (
            job.status != ExportJob.Status.RUNNING
            or not parts
            or any(p.status != ExportPart.Status.DONE for p in parts)
        ):
            return
        with tempfile.TemporaryFile() as buffer:
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                names: set[str] = set()
                for part in parts:
                    with part.file.open("rb") as stored, zipfile.ZipFile(stored) as piece:
                        for info in piece.infolist():
                            name = info.filename
                            if name in names:  # a draft's name taken in an earlier part
                                name = f"{info.filename.removesuffix('.pdf')}-{part.seq}.pdf"
                            names.add(name)
                            _copy(piece, info, archive, name)
            buffer.seek(0)
            job.file.save(f"{job.partner_id}/invoices-{job.pk}.zip", File(buffer), save=False)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE, done=F("total"), file=job.file.name, finished_at=clock.now()
        )
        for part in parts:
            part.file.delete(save=False)
        ExportPart.objects.filter(job=job).update(file="")
