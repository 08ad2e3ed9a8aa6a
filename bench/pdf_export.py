"""One invoice PDF, and a bulk ZIP export of many, timed.

Run with `make bench` (or `python bench/pdf_export.py`; PostgreSQL from DATABASE_URL). Creates a
bench partner with BENCH_INVOICES issued invoices of five lines each (once), then times rendering
one PDF (median of 10) and the export job over all of them, in this process (one worker).

With REDIS_URL set it then exports the same invoices through real Celery workers (solo pool, a private
queue), first one worker, then two: the export is cut into parts of INVOICE_EXPORT_PART_SIZE (default
100) that the free workers render, merged into one ZIP by the last. Wall time from the request to the
job done, as the page's progress bar sees it, and the merge (from the last part done to the job done).
BENCH_PDF_IN_PROCESS=0 leaves out the export in this process. Each export's line says how many PDFs its
ZIP holds. Writes the figures under "pdf_export" in bench/results.json (BENCH_RESULTS names another file).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402

from billing.invoicing import pdf  # noqa: E402
from billing.invoicing.models import ExportJob, ExportPart, Invoice  # noqa: E402
from billing.invoicing.selectors import InvoiceFilters  # noqa: E402
from billing.invoicing.services import (  # noqa: E402
    LineInput,
    invoice_draft_create,
    invoice_issue,
    invoice_pdf_export_request,
    invoice_pdf_export_run,
)
from config.celery import app as celery_app  # noqa: E402
from partner_portal.models import Customer, Membership, Partner, Role, User  # noqa: E402
from partner_portal.tenancy import scope_for_user  # noqa: E402

INVOICES = int(os.environ.get("BENCH_INVOICES", "400"))
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results.json"))


def setup() -> tuple[Partner, User]:
    partner, _ = Partner.objects.get_or_create(
        slug="pdf-bench", defaults={"name": "PDF Bench Partners Ltd", "address": "1 Bench Road\nLondon"}
    )
    user, _ = User.objects.get_or_create(email="finance@pdf-bench.example")
    Membership.objects.get_or_create(user=user, defaults={"partner": partner, "role": Role.FINANCE})
    have = Invoice.objects.for_partner(partner).count()
    for n in range(have, INVOICES):
        customer, _ = Customer.objects.get_or_create(
            partner=partner,
            tenant_id=uuid.uuid5(uuid.NAMESPACE_DNS, f"pdf-bench-{n % 50}"),
            defaults={"name": f"Bench Customer {n % 50:02d}"},
        )
        lines = [
            LineInput(
                description=f"Microsoft 365 E{3 + i % 2} — monthly",
                quantity=Decimal(10 + i),
                unit_price=Decimal("36.00"),
                tax_rate=Decimal("20"),
            )
            for i in range(5)
        ]
        invoice = invoice_draft_create(partner=partner, customer=customer, actor=None, lines=lines)
        invoice_issue(invoice=invoice, actor=None, issue_date=dt.date(2026, 11, 1))
    return partner, user


def main() -> None:
    partner, user = setup()
    invoice = Invoice.objects.for_partner(partner).select_related("customer", "partner").first()
    assert invoice is not None
    samples = []
    for _ in range(10):
        start = time.perf_counter()
        pdf.invoice_pdf(invoice=invoice)
        samples.append((time.perf_counter() - start) * 1000)
    print(f"database: {connection.vendor}")
    print(f"one invoice PDF (5 lines): median {statistics.median(samples):.0f} ms, min {min(samples):.0f} ms")
    figures: dict[str, float] = {"one_pdf_median_ms": round(statistics.median(samples), 1)}
    if os.environ.get("BENCH_PDF_IN_PROCESS", "1") != "0":
        job = ExportJob.objects.create(partner=partner, requested_by=user, total=INVOICES)
        start = time.perf_counter()
        with override_settings(INVOICE_EXPORT_PART_SIZE=INVOICES):  # one task renders it all, as before parts
            job = invoice_pdf_export_run(job_id=job.pk)
        seconds = time.perf_counter() - start
        print(
            f"bulk export of {job.total} invoices, this process: {seconds:.1f} s ({seconds / job.total * 1000:.0f} ms per invoice), {job.file.size / 1e6:.1f} MB, {pdfs_in(job)} PDFs"
        )
        figures["in_process_s"] = round(seconds, 1)
    if os.environ.get("REDIS_URL"):
        for count in (1, 2):
            load = os.getloadavg()[0]
            seconds, merge, size, pdfs = export_on_workers(user, count)
            figures[f"workers_{count}_s"] = round(seconds, 1)
            figures[f"workers_{count}_merge_s"] = round(merge, 2)
            figures[f"workers_{count}_zip_mb"] = round(size / 1e6, 1)
            figures[f"workers_{count}_load_average"] = load
            print(
                f"bulk export of {INVOICES} invoices on {count} worker(s): {seconds:.1f} s, of which the merge "
                f"{merge:.2f} s, {size / 1e6:.1f} MB, {pdfs} PDFs (load average {load:.2f} before)"
            )
        figures["speedup"] = round(figures["workers_1_s"] / figures["workers_2_s"], 2)
        print(f"two workers against one: {figures['speedup']}x")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["pdf_export"] = {"invoices": INVOICES, **figures}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def pdfs_in(job: ExportJob) -> int:
    with job.file.open("rb") as stored, zipfile.ZipFile(stored) as archive:
        return sum(name.endswith(".pdf") for name in archive.namelist())


def workers_ready(queue: str, count: int) -> None:
    """Until the `count` workers of `queue` answer a ping: they have set up Django and listen."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answers = celery_app.control.ping(timeout=0.5)
        if sum(queue in name for answer in answers for name in answer) >= count:
            return
    raise SystemExit(f"{count} worker(s) on {queue} did not start in two minutes")


def export_on_workers(user: User, count: int) -> tuple[float, float, int, int]:
    """Seconds from the request to the job done, with `count` worker processes on a private queue; the
    seconds from the last part done to the job done (the merge); the ZIP's bytes and PDFs."""
    queue = f"pdf-bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CELERY_TASK_DEFAULT_QUEUE": queue, "DEBUG": "false"}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue]
    command += ["--without-gossip", "--without-mingle", "--loglevel=WARNING"]
    workers = [
        subprocess.Popen([*command, "-n", f"w{n}-{queue}@%h"], cwd=ROOT, env=env)  # noqa: S603  (our own command)
        for n in range(count)
    ]
    try:
        celery_app.conf.task_default_queue = queue
        workers_ready(queue, count)  # templates and fonts are loaded on the first part, inside the time
        start = time.perf_counter()
        job = invoice_pdf_export_request(scope=scope_for_user(user), filters=InvoiceFilters())
        while job.status not in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
            time.sleep(0.2)
            job.refresh_from_db()
        seconds = time.perf_counter() - start
        if job.status != ExportJob.Status.DONE:
            raise SystemExit(f"the export failed: {job.error}")
        last_part = max(ExportPart.objects.filter(job=job).values_list("finished_at", flat=True))
        assert job.finished_at is not None
        assert last_part is not None
        return seconds, (job.finished_at - last_part).total_seconds(), job.file.size, pdfs_in(job)
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
