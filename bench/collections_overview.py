"""The staff collections overview on the seeded data set: p50 / p95 of whole requests and their queries.

Run with `make bench` (PostgreSQL from DATABASE_URL) after `bench/lists.py` has seeded the data set and
a collections run has gone over it (`manage.py run_collections --partner scale`, done here when the
partner has never had one). Requests go through Django's test client as in `bench/lists.py`: page 1 in
the default order (longest overdue first), by name, by amount, 20 pages in, and the step filter. For
each: p50 and p95 over BENCH_RUNS requests, the queries one request runs and the milliseconds of SQL in
it, first with `DEBUG` on (`config.settings.dev`, as `bench/lists.py` measures), then with `DEBUG` off as
production serves (templates without debug information, no query log).

Writes the figures under the key "collections_overview" of bench/results.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lists import DEPTH, PARTNER, RESULTS, deep_page, get_ok

from billing.collections.models import CollectionRun
from billing.collections.services import collections_run
from partner_portal import clock
from partner_portal.models import Partner, User

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
# The tables a collections run fills.
RUN_TABLES = (
    "billing_customercollections",
    "billing_customerdunning",
    "billing_invoicedunning",
    "billing_notice",
    "billing_collectionrun",
)


def measure(client: Client, url: str) -> dict[str, float | int]:
    get_ok(client, url)  # warm
    samples, sql = [], []
    queries = 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            get_ok(client, url)
            samples.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
        sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(p95, 1),
        "queries": queries,
        "sql_p50_ms": round(statistics.median(sql), 1),
    }


def main() -> None:
    partner = Partner.objects.get(slug=PARTNER)
    if not CollectionRun.objects.filter(partner=partner).exists():
        collections_run(partner=partner, run_date=clock.today(partner.time_zone))
        # What autovacuum would do after the run's inserts (it may be off on a bench server): without
        # statistics the planner takes the 59,322 summary rows for a few hundred and draws page 1 by
        # name in 200 ms; without the visibility map it reads them from the table, not the index.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(RUN_TABLES)}")
    admin = User.objects.get(email=f"admin@{PARTNER}.scale.example")
    client = Client()
    client.force_login(admin)
    base = reverse("collections_overview")
    urls = {
        "page 1 (longest overdue first)": base,
        "page 1 by name": f"{base}?sort=name",
        "page 1 by amount": f"{base}?sort=-overdue",
        "a filter (step: reminded)": f"{base}?step=remind",
        "a filter (step: final notice)": f"{base}?step=final_notice",
    }
    deep = deep_page(client, base, api=False)
    if deep:
        urls[f"{DEPTH} pages in"] = deep
    figures = {name: measure(client, url) for name, url in urls.items()}
    with override_settings(DEBUG=False):  # the template engines are built again without debug
        production = {name: measure(client, url) for name, url in urls.items()}
    for label, measured in (("DEBUG on", figures), ("DEBUG off", production)):
        for name, m in measured.items():
            print(
                f"{label}, {name}: p50 {m['p50_ms']} ms, p95 {m['p95_ms']} ms, {m['queries']} queries, "
                f"SQL {m['sql_p50_ms']} ms"
            )
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["collections_overview"] = {
        "runs": RUNS,
        "depth_pages": DEPTH,
        "load_average": os.getloadavg()[0],
        "pages": figures,
        "pages_debug_off": production,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
