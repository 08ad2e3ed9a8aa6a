"""What one request of each page of the load test costs on its own, with DEBUG off as production serves.

Run after `bench/lists.py` has seeded the data set (PostgreSQL from DATABASE_URL). Signs in as
`bench/load.py` does (the same sessions and URLs), then requests each page of its mix through Django's
test client, one request at a time: p50 and p95 over BENCH_RUNS requests (default 10) after one warm-up,
the queries one request runs and the milliseconds of SQL in it. First the requests that do almost
nothing (the health check, the API root: what every request pays for the middleware, the session, the
user and the membership), then the pages. BENCH_PROFILE=1 adds a cProfile of five rounds of all pages,
sorted by BENCH_PROFILE_SORT (default "tottime"). Writes the figures under "request_costs" in
bench/results.json (BENCH_RESULTS names another file).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["DEBUG"] = "false"

import django  # noqa: E402
import load  # noqa: E402  (locust patches the standard library before Django sets up)

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results.json"))


def measure(client: Client, url: str) -> dict[str, float | int]:
    client.get(url)
    samples, sql, queries = [], [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
        if response.status_code >= 400:
            raise SystemExit(f"{url}: {response.status_code}")
        queries = len(captured)
        sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[min(RUNS - 1, round(0.95 * (RUNS - 1)))], 1),
        "queries": queries,
        "sql_p50_ms": round(statistics.median(sql), 1),
    }


def main() -> None:
    assert not settings.DEBUG
    plan = load.plan()
    staff, customer = Client(), Client()
    staff.cookies[plan["cookie"]] = plan["staff_session"]
    customer.cookies[plan["cookie"]] = plan["customer_sessions"][0]
    s = plan["staff"]
    pages: list[tuple[Client, str, str]] = [
        (staff, "health check (signed in)", "/healthz"),
        (staff, "API root (signed in)", "/api/v1/"),
    ]
    pages += [(staff, f"staff: {n}", s[n]) for n in ("customers", "invoices", "payments", "subscriptions", "tickets")]
    pages += [(staff, "staff: collections", s["collections"]), (staff, "staff: an invoice", s["invoice_details"][0])]
    pages += [(staff, f"API (staff) {url}", url) for url in s["api"]]
    pages += [
        (customer, "customer: self-service page", plan["customer"]["home"]),
        (customer, "API (customer)", plan["customer"]["api"]),
    ]
    load_average = os.getloadavg()[0]
    figures = {name: measure(client, url) for client, name, url in pages}
    for name, m in figures.items():
        print(
            f"{name:40} p50 {m['p50_ms']:7.1f}  p95 {m['p95_ms']:7.1f}  {m['queries']:2} queries  SQL {m['sql_p50_ms']:6.1f}"
        )
    print(f"load average {load_average:.2f} before, {os.getloadavg()[0]:.2f} after")
    if os.environ.get("BENCH_PROFILE"):
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(5):
            for client, _name, url in pages:
                client.get(url)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "tottime")).print_stats(40)
        print(out.getvalue())
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["request_costs"] = {"runs": RUNS, "load_average": load_average, "pages": figures}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
