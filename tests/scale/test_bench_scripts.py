"""The collections benchmark (`make bench`) runs: at a small size, in a process of its own on the test
database, like `make bench` on the benchmark database. Its raw-SQL lower bound writes notices with raw
SQL, so a new NOT NULL column of the notices would break it here, not on the next benchmark day."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import require
from tests.workers import database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(
    r"^(?P<label>.+?)\s+(?P<wall>[\d.]+)\s+(?P<queries>[\d,]+)\s+(?P<messages>[\d,]+)\s+(?P<notices>[\d,]+)$"
)


def test_the_collections_benchmark_runs_and_its_run_writes_what_the_lower_bound_writes(tmp_path: Path) -> None:
    require(connection.vendor == "postgresql", "the benchmark runs on PostgreSQL only")
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url(),
        "PORTAL_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "BENCH_INVOICES": "2000",
        # The benchmark purges the broker's queue after each measurement: only its own.
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
    }
    done = subprocess.run(
        [sys.executable, "bench/collections.py"], cwd=ROOT, env=env, capture_output=True, timeout=240, check=False
    )
    output = done.stdout.decode()
    assert done.returncode == 0, output[-2000:] + done.stderr.decode()[-4000:]
    rows = {m["label"].strip(): m for line in output.splitlines() if (m := ROW.match(line.strip()))}
    notices = {label: int(row["notices"].replace(",", "")) for label, row in rows.items()}
    assert notices["raw-SQL lower bound (notices only)"] > 0
    assert notices["collections_run, first run"] == notices["raw-SQL lower bound (notices only)"]
    assert notices["previous algorithm (per invoice, one txn)"] == notices["collections_run, first run"]
    assert notices["collections_run, again (nothing new)"] == 0
    assert notices["collections_run, again after ANALYZE"] == 0
