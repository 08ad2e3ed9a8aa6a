"""Customer list paging at depth: keyset (what the portal does) against OFFSET (the naive way).

Run with `make bench` (PostgreSQL from DATABASE_URL; seeds BENCH_CUSTOMERS customers, default 100,000,
once with seed_scale). Prints milliseconds per page fetch, median of several runs, at increasing depths
(those the partner's customers reach, and the last page), and the rows each way fetched: the same rows,
or the script stops.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import QuerySet  # noqa: E402

from partner_portal.models import Customer, Partner  # noqa: E402
from partner_portal.pagination import _encode, keyset_page  # noqa: E402

PAGE = 25
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
RUNS = 7


def median_ms(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def same_rows(qs: QuerySet[Customer], depth: int, cursor: str | None) -> int:
    """The rows of the page both ways, which must be the same customers in the same order."""
    offset = [c.pk for c in qs.order_by("name", "pk")[depth : depth + PAGE]]
    keyset = [c.pk for c in keyset_page(qs, sort_field="name", descending=False, cursor=cursor, size=PAGE).items]
    if offset != keyset:
        raise SystemExit(f"at depth {depth} keyset paging fetched other rows than OFFSET")
    return len(keyset)


def main() -> None:
    call_command("seed_scale", customers=CUSTOMERS, stdout=open(os.devnull, "w"))  # noqa: SIM115
    partner = Partner.objects.get(slug="scale")
    qs = Customer.objects.for_partner(partner)
    print(f"database: {connection.vendor}, customers: {qs.count()}, page size: {PAGE}")
    print(f"{'depth (rows)':>14} {'OFFSET ms':>10} {'keyset ms':>10} {'rows':>5}")
    last = max(qs.count() - PAGE, 0)
    for depth in sorted({d for d in (0, 1_000, 10_000, 50_000) if d < last} | {last}):
        # The keyset cursor for this depth comes from the row just before it, as "Next" links carry.
        before = qs.order_by("name", "pk")[depth - 1] if depth else None
        cursor = _encode([before.name, before.pk], "next") if before is not None else None
        offset_ms = median_ms(lambda d=depth: list(qs.order_by("name", "pk")[d : d + PAGE]))
        keyset_ms = median_ms(
            lambda c=cursor: keyset_page(qs, sort_field="name", descending=False, cursor=c, size=PAGE)
        )
        rows = same_rows(qs, depth, cursor)
        print(f"{depth:>14,} {offset_ms:>10.2f} {keyset_ms:>10.2f} {rows:>5}")
    print(f"count of all customers (the list's total): {median_ms(qs.count):.2f} ms")


if __name__ == "__main__":
    main()
