"""The daily collections run of the `seed_scale` partner, again with nothing new: wall time and statements.

Run after `bench/lists.py` has seeded the data set and a first run has gone over it (`bench/
collections_overview.py` makes one when there was none), with the notices that run made marked sent as
a worker would have. Times `collections_run` BENCH_RUNS times (default 3) in this process with every
statement captured (`connection.execute_wrapper`) and prints the slowest statements of each run;
writes the figures under "collections_rerun" in bench/results.json (BENCH_RESULTS names another file).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from billing.collections.services import collections_run  # noqa: E402
from partner_portal import clock  # noqa: E402
from partner_portal.models import Partner  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results.json"))


def main() -> None:
    partner = Partner.objects.get(slug=os.environ.get("BENCH_PARTNER", "scale"))
    runs: list[dict[str, Any]] = []
    statements: list[tuple[float, str]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append(((time.perf_counter() - start) * 1000, " ".join(sql.split())[:120]))

    for _ in range(RUNS):
        statements.clear()
        load = os.getloadavg()[0]
        with connection.execute_wrapper(timed):
            start = time.perf_counter()
            run = collections_run(partner=partner, run_date=clock.today(partner.time_zone))
            wall = time.perf_counter() - start
        slowest = sorted(statements, reverse=True)[:3]
        print(f"{run.status}: {wall:.2f} s, {len(statements)} statements, load average {load:.2f}")
        for ms, sql in slowest:
            print(f"  {ms:8.1f} ms  {sql}")
        runs.append({
            "wall_s": round(wall, 3), "statements": len(statements), "load_average": load,
            "notices": run.details.get("notices_queued"), "slowest_ms": round(slowest[0][0], 1) if slowest else 0,
        })  # fmt: skip
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["collections_rerun"] = runs
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
