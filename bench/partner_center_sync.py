"""The sync from Partner Center at onboarding scale: 1,000 customers × 5 subscriptions.

Run with `make bench` (PostgreSQL from DATABASE_URL). The real client (msal + httpx) reads the TLS
stand-in of tests/fakes/partner_center.py on a loopback port, as the tests do; the sync runs as the
nightly job runs it (`partner_center_syncs_run`), for a new bench partner each time: first the
onboarding (everything created), then the same sync again (nothing to change), then once more after
Microsoft changed the quantity of 10 % of the subscriptions (differences recorded). Prints wall
time, SQL queries and HTTP calls of each run. BENCH_SYNC_CUSTOMERS sets the customers (default 1,000).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

from tests.fakes.partner_center import FakePartnerCenter

CUSTOMERS = int(os.environ.get("BENCH_SYNC_CUSTOMERS", "1000"))
PER_CUSTOMER = 5
PAGE = 100  # customers per page of Microsoft's list, as the sync asks


def main() -> None:
    fake = FakePartnerCenter()
    fake.page_size = PAGE
    fake.__enter__()
    # The http backend pointed at the stand-in, its test CA handed over (TLS verified as in production).
    os.environ.update({**fake.worker_env(), "PARTNER_CENTER_TIMEOUT_SECONDS": "30"})
    import django

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per call otherwise
    from django.db import connection

    from partner_portal.models import Partner
    from subscriptions.models import PartnerCenterSync, SubscriptionDifference
    from subscriptions.services import partner_center_syncs_run

    run = uuid.uuid4().hex[:8]
    partner = Partner.objects.create(name=f"Sync bench {run}", slug=f"sync-bench-{run}")
    fake.connect(partner)
    subscription_ids = []
    for n in range(CUSTOMERS):
        tenant = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}/customer/{n}"))
        fake.add_customer(tenant, f"Bench customer {n:04d}")
        for k in range(PER_CUSTOMER):
            sid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}/subscription/{n}/{k}"))
            fake.add_subscription(tenant, sid, quantity=5 + k, status="suspended" if k == 4 else "active")
            subscription_ids.append(sid)
    print(f"database: {connection.vendor}; {CUSTOMERS:,} customers × {PER_CUSTOMER} subscriptions, "
          f"{PAGE} customers a page")  # fmt: skip
    print(f"{'run':<34} {'wall s':>7} {'queries':>8} {'HTTP calls':>11} {'created':>9} {'differences':>12}")

    def measure(label: str) -> None:
        calls, queries = len(fake.calls()), []

        def counted(execute, sql, params, many, context):  # every statement, savepoints included
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            start = time.perf_counter()
            (sync,) = partner_center_syncs_run(partners=Partner.objects.filter(pk=partner.pk))
            wall = time.perf_counter() - start
        assert sync.status == PartnerCenterSync.Status.DONE, sync.error
        created = f"{sync.customers_created}+{sync.subscriptions_created}"
        print(f"{label:<34} {wall:>7.2f} {len(queries):>8,} {len(fake.calls()) - calls:>11,} {created:>9} "
              f"{sync.differences_found:>12,}")  # fmt: skip

    measure("onboarding (all new)")
    measure("again, nothing changed")
    for sid in subscription_ids[::10]:
        fake.add_subscription("", sid)["quantity"] += 1  # changed in Partner Center
    measure("again, 10 % of quantities changed")
    print(f"open differences recorded: {SubscriptionDifference.objects.filter(partner=partner).count():,}")
    fake.__exit__(None, None, None)


if __name__ == "__main__":
    main()
