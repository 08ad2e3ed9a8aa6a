"""Every benchmark script (`make bench`, `make bench-load`, and the ones run by hand) runs: at a small size,
in a process of its own on the test database, as on the benchmark database. They seed with raw SQL and
walk the portal's URLs, so a new NOT NULL column or a renamed page breaks them here, not on the next
benchmark day. Their results go to a file under the test's folder, never to bench/results.json or
docs/benchmarks.md."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import require
from tests.workers import database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(
    r"^(?P<label>.+?)\s+(?P<wall>[\d.]+)\s+(?P<queries>[\d,]+)\s+(?P<messages>[\d,]+)\s+(?P<notices>[\d,]+)$"
)
Bench = Callable[..., str]


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    """Runs a script of bench/ with the given variables and answers what it printed; fails on an exit
    other than 0, with the end of its output."""
    require(connection.vendor == "postgresql", "the benchmarks run on PostgreSQL only")
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    doc = tmp_path / "benchmarks.md"
    shutil.copy(ROOT / "docs" / "benchmarks.md", doc)
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url(),
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "false",
        # Scripts that purge or listen to the broker's queue: only their own.
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
        "BENCH_RESULTS": str(tmp_path / "results.json"),
        "BENCH_DOC": str(doc),
    }

    def run(script: str, **variables: str) -> str:
        done = subprocess.run(
            [sys.executable, f"bench/{script}"],
            cwd=ROOT,
            env={**base, **variables},
            capture_output=True,
            timeout=240,
            check=False,
        )
        output = done.stdout.decode()
        assert done.returncode == 0, output[-2000:] + done.stderr.decode()[-4000:]
        return output

    return run


@pytest.fixture
def results(tmp_path: Path) -> Callable[[], dict[str, Any]]:
    return lambda: json.loads((tmp_path / "results.json").read_text())


@pytest.fixture
def seeded(bench: Bench) -> None:
    """The data set of `bench/lists.py`, small: what the scripts run after it expect to find."""
    call_command("seed_scale", customers=120, big_customer_invoices=60, stdout=io.StringIO())


def test_the_collections_benchmark_runs_and_its_run_writes_what_the_lower_bound_writes(bench: Bench) -> None:
    output = bench("collections.py", BENCH_INVOICES="2000")
    rows = {m["label"].strip(): m for line in output.splitlines() if (m := ROW.match(line.strip()))}
    notices = {label: int(row["notices"].replace(",", "")) for label, row in rows.items()}
    assert notices["raw-SQL lower bound (notices only)"] > 0
    assert notices["collections_run, first run"] == notices["raw-SQL lower bound (notices only)"]
    assert notices["previous algorithm (per invoice, one txn)"] == notices["collections_run, first run"]
    assert notices["collections_run, again (nothing new)"] == 0
    assert notices["collections_run, again after ANALYZE"] == 0


def test_the_customer_list_benchmark_fetches_the_same_full_page_both_ways_at_each_depth(bench: Bench) -> None:
    output = bench("customer_list.py", BENCH_CUSTOMERS="60")
    assert "customers: 60, page size: 25" in output
    depths = re.findall(r"^\s+([\d,]+)\s+[\d.]+\s+[\d.]+\s+(\d+)$", output, re.MULTILINE)
    # The first page and the last; each page as long as the page size (the script stops if they differ).
    assert depths == [("0", "25"), ("35", "25")]
    assert "count of all customers (the list's total)" in output


def test_the_pdf_export_benchmark_zips_a_pdf_per_invoice_in_this_process_and_on_workers(
    bench: Bench, results: Callable[[], dict[str, Any]]
) -> None:
    output = bench("pdf_export.py", BENCH_INVOICES="4", INVOICE_EXPORT_PART_SIZE="2")
    assert re.search(r"one invoice PDF \(5 lines\): median \d+ ms", output)
    exports = re.findall(r"^bulk export of 4 invoices(.*), (\d+) PDFs", output, re.MULTILINE)
    assert [(where.split(":")[0], pdfs) for where, pdfs in exports] == [
        (", this process", "4"),
        (" on 1 worker(s)", "4"),
        (" on 2 worker(s)", "4"),
    ]
    figures = results()["pdf_export"]
    assert figures["invoices"] == 4
    assert figures["workers_1_s"] > 0
    assert figures["workers_2_s"] > 0


def test_the_partner_center_sync_benchmark_creates_then_changes_nothing_then_finds_the_changed_tenth(
    bench: Bench,
) -> None:
    output = bench("partner_center_sync.py", BENCH_SYNC_CUSTOMERS="30")
    runs = {
        m[1].strip(): m.groups()[1:]
        for m in re.finditer(r"^(.+?)\s+[\d.]+\s+([\d,]+)\s+([\d,]+)\s+(\d+\+\d+)\s+([\d,]+)$", output, re.MULTILINE)
    }
    # One page of customers, one subscription list per customer; the queries do not grow per customer.
    assert {label: run[1:] for label, run in runs.items()} == {
        "onboarding (all new)": ("31", "30+150", "0"),
        "again, nothing changed": ("31", "0+0", "0"),
        "again, 10 % of quantities changed": ("31", "0+0", "15"),
    }
    assert all(0 < int(run[0]) < 30 for run in runs.values())
    assert "open differences recorded: 15" in output


def test_the_reconciliation_import_benchmark_imports_every_line_of_its_file(bench: Bench) -> None:
    output = bench("reconciliation_import.py", BENCH_RECON_LINES="500", BENCH_RECON_CUSTOMERS="50")
    assert "seeded: 50 customers, 200 subscriptions" in output
    assert re.search(r"check only .*: [\d.]+ s, 500 rows, total [\d.]+ USD, errors 0", output)
    found = re.search(r"status done, 500 lines, ([\d,]+) matched, ([\d,]+) unmatched", output)
    assert found, output
    matched, unmatched = int(found[1].replace(",", "")), int(found[2].replace(",", ""))
    # A tenth of the lines name customers the partner does not have.
    assert matched + unmatched == 500
    assert matched > unmatched > 0
    assert re.search(r"naive matching .*: [\d.]+ s", output)


def test_the_lists_benchmark_measures_every_list_and_writes_its_table(
    bench: Bench, results: Callable[[], dict[str, Any]], tmp_path: Path
) -> None:
    output = bench("lists.py", BENCH_CUSTOMERS="120", BENCH_BIG_CUSTOMER_INVOICES="60", BENCH_RUNS="1", BENCH_DEPTH="2")
    figures = results()["lists"]
    assert figures["customers"] == 120
    lists = figures["lists"]
    assert set(lists) == {n for n in re.findall(r"^\| ([a-z ]+) \|", output, re.MULTILINE)} - {"list"}
    assert len(lists) == 9
    for name, row in lists.items():
        assert row["page 1"]["queries"] > 0, name
        assert row["raw SQL page 1"]["queries"] == 1, name
        # Keyset pages: as many queries deep in as on page 1.
        if row["page deep"]:
            assert row["page deep"]["queries"] == row["page 1"]["queries"], name
        if row.get("API deep"):
            assert row["API deep"]["queries"] == row["API 1"]["queries"], name
    assert lists["customers"]["page deep"] is not None
    own = figures["self-service"]
    assert own["invoices"] > 60
    assert own["page 1"]["queries"] > 0
    assert own["page deep"]["queries"] > 0
    table = (tmp_path / "benchmarks.md").read_text()
    assert "120 customers" in table.split("<!-- lists:start -->")[1].split("<!-- lists:end -->")[0]


@pytest.mark.usefixtures("seeded")
def test_the_collections_overview_benchmark_measures_each_view_with_debug_on_and_off(
    bench: Bench, results: Callable[[], dict[str, Any]]
) -> None:
    output = bench("collections_overview.py", BENCH_RUNS="1", BENCH_DEPTH="2")
    lines = re.findall(r"^DEBUG (on|off), (.+?): p50 [\d.]+ ms, p95 [\d.]+ ms, (\d+) queries", output, re.MULTILINE)
    views = {"page 1 (longest overdue first)", "page 1 by name", "page 1 by amount"}
    views |= {"a filter (step: reminded)", "a filter (step: final notice)", "2 pages in"}
    assert {(debug, view) for debug, view, _ in lines} == {(debug, v) for debug in ("on", "off") for v in views}
    queries = {(debug, view): int(n) for debug, view, n in lines}
    assert all(queries[("on", view)] == queries[("off", view)] > 0 for view in views)
    # Whatever the order or the depth, page 1 runs the same queries.
    assert len({queries[("off", view)] for view in views if "filter" not in view}) == 1
    assert set(results()["collections_overview"]["pages_debug_off"]) == views


@pytest.mark.usefixtures("seeded")
def test_the_collections_rerun_benchmark_finds_nothing_new_the_second_time(
    bench: Bench, results: Callable[[], dict[str, Any]]
) -> None:
    output = bench("collections_rerun.py", BENCH_RUNS="2")
    assert len(re.findall(r"^done: [\d.]+ s, \d+ statements", output, re.MULTILINE)) == 2
    first, again = results()["collections_rerun"]
    assert first["notices"] > 0
    assert again["notices"] == 0
    assert 0 < again["statements"] <= first["statements"]


@pytest.mark.usefixtures("seeded")
def test_the_request_costs_benchmark_measures_every_page_of_the_load_mix(
    bench: Bench, results: Callable[[], dict[str, Any]]
) -> None:
    output = bench("request_costs.py", BENCH_RUNS="1")
    pages = results()["request_costs"]["pages"]
    expected = {"health check (signed in)", "API root (signed in)", "staff: collections", "staff: an invoice"}
    expected |= {f"staff: {n}" for n in ("customers", "invoices", "payments", "subscriptions", "tickets")}
    expected |= {f"API (staff) /api/v1/{n}/" for n in ("customers", "invoices", "subscriptions")}
    expected |= {"customer: self-service page", "API (customer)"}
    assert set(pages) == expected
    assert all(page["queries"] > 0 for page in pages.values())
    assert all(name in output for name in expected)


@pytest.mark.usefixtures("seeded")
def test_the_load_benchmark_serves_its_mix_without_errors_on_both_worker_counts(
    bench: Bench, results: Callable[[], dict[str, Any]]
) -> None:
    output = bench("load.py", LOAD_SECONDS="2", LOAD_USERS="2", LOAD_WORKERS="1", LOAD_THINK="0")
    runs = re.findall(r"^(\d+) gunicorn workers, 2 users, 2 s: .*, (\d+) errors of (\d+)$", output, re.MULTILINE)
    assert [workers for workers, _, _ in runs] == ["1", "2"]
    assert all(errors == "0" and int(requests) > 0 for _, errors, requests in runs)
    measured = results()["load_no_think"]
    assert all("staff: customers" in run["requests"] for run in measured)
