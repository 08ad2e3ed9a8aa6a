"""A large bulk PDF export cut into parts: real Celery workers render the parts and the last one merges
them into one ZIP holding exactly the selected invoices, with the progress counted over all parts."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing.invoicing.models import ExportJob, ExportPart
from billing.invoicing.selectors import InvoiceFilters
from billing.invoicing.services import invoice_pdf_export_part_run, invoice_pdf_export_request
from partner_portal.tenancy import scope_for_user
from tests.conftest import make_tenant
from tests.factories.billing import draft, issued
from tests.workers import Workers

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    pool = Workers.for_test(tmp_path, monkeypatch, "exports")
    pool.env["INVOICE_EXPORT_PART_SIZE"] = "2"  # seven invoices: four parts
    try:
        yield pool
    finally:
        pool.stop()


def test_two_workers_export_the_parts_into_one_zip_of_exactly_the_invoices(workers: Workers) -> None:
    workers.start()
    workers.start()
    tenant = make_tenant("Parts")
    other = make_tenant("Elsewhere")
    invoices = [issued(tenant.customer if n % 2 else tenant.other_customer) for n in range(7)]
    draft(tenant.customer)  # left out: drafts are not asked for
    issued(other.customer)  # another partner's
    job = invoice_pdf_export_request(scope=scope_for_user(tenant.finance), filters=InvoiceFilters())
    seen: list[int] = []

    def finished() -> bool:
        job.refresh_from_db()
        seen.append(job.percent)
        return job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED)

    workers.wait(finished, "the export done", timeout=180)
    assert job.status == ExportJob.Status.DONE, job.error
    assert (job.total, job.done, job.percent) == (7, 7, 100)
    assert seen == sorted(seen)  # progress only goes up
    parts = list(ExportPart.objects.filter(job=job).order_by("seq"))
    assert [len(p.invoice_ids) for p in parts] == [2, 2, 2, 1]
    assert all(p.status == ExportPart.Status.DONE and not p.file for p in parts)  # merged, then removed
    stored = workers.folder / "media" / job.file.name
    with zipfile.ZipFile(io.BytesIO(stored.read_bytes())) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(f"{i.number}.pdf" for i in invoices)
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
    assert "invoice_pdf_export_part_task" in workers.logs()

    # A part delivered again after the merge renders nothing and leaves the ZIP as it is.
    before = stored.read_bytes()
    time.sleep(0.1)
    invoice_pdf_export_part_run(part_id=parts[0].pk)
    job.refresh_from_db()
    assert (job.status, job.done) == (ExportJob.Status.DONE, 7)
    assert stored.read_bytes() == before
