"""Partner Center reconciliation import of a 100,000-line new-commerce file, as the background job runs it.

Run against PostgreSQL (migrate the database first):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/reconciliation_import.py

Seeds a partner with BENCH_RECON_CUSTOMERS customers (5,000) and four subscriptions each, once; writes a
file of BENCH_RECON_LINES lines (100,000) naming those customers and subscriptions plus 10 % unknown
customers, some usage lines and credits; then times:

- checking the file alone (the pure parser over the whole file);
- the upload and the job: reconciliation_import_submit, which schedules reconciliation_import_run_task
  (run eagerly here, in this process, as a worker would run it), while a second database connection polls
  the import's progress the way the page does;
- the naive matching for comparison: one query per line for its customer and one for its subscription,
  on a sample of lines, extrapolated to the whole file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("DEBUG", "false")  # DEBUG keeps every SQL statement in memory

import django

django.setup()

from django.core.files.storage import default_storage  # noqa: E402
from django.db import connection, connections  # noqa: E402

from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport  # noqa: E402
from billing.reconciliation.parsing import check_file  # noqa: E402
from billing.reconciliation.services import reconciliation_import_submit  # noqa: E402
from config.celery import app  # noqa: E402
from partner_portal.models import Customer, Partner  # noqa: E402
from subscriptions.models import Subscription  # noqa: E402
from tests.factories.reconciliation import NEW_COMMERCE_HEADER, nce_row  # noqa: E402

LINES = int(os.environ.get("BENCH_RECON_LINES", "100000"))
CUSTOMERS = int(os.environ.get("BENCH_RECON_CUSTOMERS", "5000"))
SUBS_PER_CUSTOMER = 4
NAIVE_SAMPLE = 2_000
SLUG = "recon-bench"
PRODUCTS = [
    ("Microsoft 365 E3", "36.00"),
    ("Microsoft 365 Business Premium", "22.00"),
    ("Exchange Online (Plan 1)", "4.00"),
    ("Dynamics 365 Sales Enterprise", "95.00"),
]


def seed() -> tuple[Partner, list[Customer], dict[int, list[str]]]:
    partner, _ = Partner.objects.get_or_create(slug=SLUG, defaults={"name": "Reconciliation Bench Partner"})
    have = Customer.objects.for_partner(partner).count()
    if have < CUSTOMERS:
        Customer.objects.bulk_create(
            [Customer(partner=partner, name=f"Bench Customer {i:06d}") for i in range(have, CUSTOMERS)],
            batch_size=2000,
        )
    customers = list(Customer.objects.for_partner(partner).order_by("pk")[:CUSTOMERS])
    with_subs = set(Subscription.objects.for_partner(partner).values_list("customer_id", flat=True).distinct())
    new = [
        Subscription(
            partner=partner,
            customer=c,
            product=product,
            microsoft_subscription_id=str(uuid.uuid4()),
            quantity=10,
            unit_price=Decimal(price) * Decimal("1.15"),
            unit_cost=Decimal(price),
            start_date=dt.date(2026, 1, 1),
        )
        for c in customers
        if c.pk not in with_subs
        for product, price in PRODUCTS[:SUBS_PER_CUSTOMER]
    ]
    Subscription.objects.bulk_create(new, batch_size=2000)
    subs: dict[int, list[str]] = {}
    for customer_id, ms_id in Subscription.objects.for_partner(partner).values_list(
        "customer_id", "microsoft_subscription_id"
    ):
        subs.setdefault(customer_id, []).append(ms_id)
    return partner, customers, subs


def make_file(customers: list[Customer], subs: dict[int, list[str]], rng: random.Random) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(NEW_COMMERCE_HEADER)
    strangers = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(max(CUSTOMERS // 10, 1))]
    for i in range(LINES):
        if rng.random() < 0.1:
            customer_id, name, sub_id = rng.choice(strangers), "Unknown Customer", str(uuid.uuid4())
        else:
            customer = rng.choice(customers)
            customer_id, name = str(customer.tenant_id).upper(), customer.name
            sub_id = rng.choice(subs[customer.pk])
        product, price = PRODUCTS[i % len(PRODUCTS)]
        usage = i % 10 == 0
        quantity = rng.randint(1, 50) * (-1 if i % 97 == 0 else 1)  # some credits
        subtotal = Decimal(price) * quantity
        if usage:
            product, subtotal = "Azure plan", Decimal(rng.randint(1, 100_000)) / 100
        tax = (subtotal * Decimal("0.2")).quantize(Decimal("0.01"))
        row = nce_row(
            customer_id=customer_id, customer_name=name, subscription_id=sub_id, product=product, sku=product,
            charge_type="usage" if usage else "cycleCharge", unit_price=price, quantity=str(quantity),
            subtotal=f"{subtotal:.2f}", tax=f"{tax:.2f}", total=f"{subtotal + tax:.2f}",
            start=f"11/{1 + i % 28}/2026", end="11/30/2026", meter="Compute Hours" if usage else "",
        )  # fmt: skip
        writer.writerow([row[c] for c in NEW_COMMERCE_HEADER])
    return out.getvalue().encode()


def main() -> None:
    print(f"database: {connection.vendor}")
    rng = random.Random(2026)
    started = time.perf_counter()
    partner, customers, subs = seed()
    print(f"seeded: {len(customers):,} customers, {sum(map(len, subs.values())):,} subscriptions "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    for old in ReconciliationImport.objects.for_partner(partner):
        if old.file.name:
            default_storage.delete(old.file.name)
        old.delete()  # its lines go with it
    MicrosoftPayable.objects.for_partner(partner).delete()

    started = time.perf_counter()
    content = make_file(customers, subs, rng)
    print(f"file: {LINES:,} lines, {len(content) / 1e6:.1f} MB, written in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    summary = check_file(io.BytesIO(content))  # as the job reads its stored file
    check_s = time.perf_counter() - started
    print(f"check only (parse and validate, no database): {check_s:.2f} s, {summary.rows:,} rows, "
          f"total {summary.total} {summary.currency}, errors {summary.error_count}")  # fmt: skip

    # The worker's run, eagerly in this process; the page polls progress on its own connection.
    app.conf.task_always_eager = True
    seen: list[tuple[float, str, int]] = []
    stop = threading.Event()
    t0 = time.perf_counter()

    def poll() -> None:
        try:
            while not stop.is_set():
                imp = ReconciliationImport.objects.for_partner(partner).order_by("-pk").first()
                if imp is not None:
                    seen.append((time.perf_counter() - t0, imp.status, imp.percent))
                stop.wait(0.25)
        finally:
            connections.close_all()

    poller = threading.Thread(target=poll)
    poller.start()
    submission = reconciliation_import_submit(
        partner=partner, actor=None, file_name="bench.csv", content=content, period=None
    )
    total_s = time.perf_counter() - t0
    stop.set()
    poller.join()
    imp = ReconciliationImport.objects.get(pk=submission.reconciliation_import.pk)
    seen.append((total_s, imp.status, imp.percent))
    payable = MicrosoftPayable.objects.for_partner(partner).get(period=imp.period, currency=imp.currency)
    print(f"upload + job (check, then insert and match in one transaction): {total_s:.2f} s "
          f"({LINES / total_s:,.0f} lines/s)")  # fmt: skip
    print(f"  status {imp.status}, {imp.total_lines:,} lines, {imp.matched_lines:,} matched, "
          f"{imp.unmatched_lines:,} unmatched, total {imp.total} {imp.currency}, period {imp.period}")  # fmt: skip
    print(f"  payable {payable.amount} {payable.currency} due {payable.due_date}")
    checkpoints = sorted({(status, percent) for _, status, percent in seen}, key=lambda x: (x[1], x[0]))
    print(f"  progress the page saw: {', '.join(f'{s} {p}%' for s, p in checkpoints)}")

    # The naive way for comparison: a query per line for its customer and one for its subscription.
    lines = list(imp.lines.order_by("row_number").values_list("ms_customer_id", "ms_subscription_id")[:NAIVE_SAMPLE])
    started = time.perf_counter()
    for ms_customer_id, ms_subscription_id in lines:
        Customer.objects.for_partner(partner).filter(tenant_id=ms_customer_id).first()
        Subscription.objects.for_partner(partner).filter(microsoft_subscription_id=ms_subscription_id).first()
    naive_s = (time.perf_counter() - started) / len(lines) * LINES
    print(f"naive matching (2 queries per line, {len(lines):,}-line sample extrapolated): {naive_s:.1f} s "
          f"for the matching alone")  # fmt: skip
    default_storage.delete(imp.file.name)


if __name__ == "__main__":
    main()
