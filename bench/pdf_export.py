"""One invoice PDF, and a bulk ZIP export of many, timed.

Run with `make bench` (or `python bench/pdf_export.py`; PostgreSQL from DATABASE_URL). Creates a
bench partner with BENCH_INVOICES issued invoices of five lines each (once), then times rendering
one PDF (median of 10) and the export job over all of them, in this process (one worker).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from django.db import connection  # noqa: E402

from billing.invoicing import pdf  # noqa: E402
from billing.invoicing.models import ExportJob, Invoice  # noqa: E402
from billing.invoicing.services import LineInput, invoice_draft_create, invoice_issue, invoice_pdf_export_run  # noqa: E402
from partner_portal.models import Customer, Membership, Partner, Role, User  # noqa: E402

INVOICES = int(os.environ.get("BENCH_INVOICES", "200"))


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
    job = ExportJob.objects.create(partner=partner, requested_by=user, total=INVOICES)
    start = time.perf_counter()
    job = invoice_pdf_export_run(job_id=job.pk)
    seconds = time.perf_counter() - start
    print(
        f"bulk export of {job.total} invoices into one ZIP: {seconds:.1f} s ({seconds / job.total * 1000:.0f} ms per invoice), {job.file.size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
