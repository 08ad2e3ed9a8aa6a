"""Every staff list page and API list on the seeded data, beside the Django admin and the raw SQL.

Run with `make bench` (PostgreSQL from DATABASE_URL). Seeds the data set once with `seed_scale`
(BENCH_CUSTOMERS customers, default 100,000, with subscriptions, invoices, payments and tickets), signs
in as the bench partner's admin and requests each list through Django's test client, the whole stack
but the network: page 1, a deep page reached by following BENCH_DEPTH `next` links (default 100), a
filter and a search. For each: p50 and p95 over BENCH_RUNS requests (default 15) and the queries one
request runs. Baselines: the Django admin changelist of the same rows (page 1 and the same depth through
its OFFSET pages), and the list's own page query run as raw SQL. Then the self-service page of the
customer with a long history (BENCH_BIG_CUSTOMER_INVOICES extra invoices, default 20,000).

Writes the figures under the key "lists" of bench/results.json and the table of docs/benchmarks.md
between its `lists` markers; BENCH_RESULTS and BENCH_DOC name other files (bench/collections_overview.py
writes where this script does).
"""

from __future__ import annotations

import html
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from billing.invoicing.models import Invoice  # noqa: E402
from partner_portal.models import Customer, Membership, Partner, Role, User  # noqa: E402

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
BIG_CUSTOMER_INVOICES = int(os.environ.get("BENCH_BIG_CUSTOMER_INVOICES", "20000"))
PARTNER = os.environ.get("BENCH_PARTNER", "scale")
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
DEPTH = int(os.environ.get("BENCH_DEPTH", "100"))  # next links followed for the deep page
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results.json"))
DOC = Path(os.environ.get("BENCH_DOC", ROOT / "docs" / "benchmarks.md"))
START, END = "<!-- lists:start -->", "<!-- lists:end -->"
NEXT_LINK = re.compile(r'rel="next" href="([^"]+)"')

# list -> (page URL name, API route, admin changelist, filter, search)
LISTS: list[tuple[str, str | None, str | None, str | None, dict[str, str], dict[str, str]]] = [
    ("customers", "customer_list", "customer-list", "partner_portal/customer", {"currency": "EUR"}, {"q": "0054321"}),
    ("invoices", "invoice_list", "invoice-list", "billing/invoice", {"status": "open"}, {"q": "INV-2026-0123456"}),
    ("payments", "payment_list", "payment-list", "billing/payment", {}, {}),
    (
        "subscriptions",
        "subscription_list",
        "subscription-list",
        "subscriptions/subscription",
        {"status": "suspended"},
        {"q": "Customer 0054321"},
    ),
    ("differences", "subscription_difference_list", "subscription-difference-list", None, {"state": "open"}, {}),
    ("tickets", "ticket_list", "ticket-list", "tickets/ticket", {"status": "open"}, {"q": "Customer 0054321"}),
    ("audit log", "audit_log", None, "partner_portal/auditevent", {"action": "invoice.issued"}, {"q": "INV-2026-01"}),
    ("collections", "collections_overview", "notice-list", None, {}, {}),
    ("escalations", "escalation_list", "escalation-list", "escalation/escalation", {}, {}),
]
API_SEARCH = {"customers": {"search": "0054321"}, "invoices": {"search": "INV-2026-0123456"}}


def measure(fn: Callable[[], Any]) -> dict[str, float | int]:
    reset_queries()  # DEBUG keeps the last 9,000 queries; once full, the capture below would count none
    with CaptureQueriesContext(connection) as captured:
        fn()
    # Counted now: the captured list is a slice of the connection's log, which the next request clears
    # when DEBUG is off.
    queries = len(captured)
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(p95, 2), "queries": queries}


def get_ok(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code}")
    return response


def page_url(base: str, query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return f"{base}?{urlencode(query)}" if query else base


def deep_page(client: Client, url: str, api: bool) -> str | None:
    """The URL DEPTH pages in, reached by following each answer's next link."""
    for _ in range(DEPTH):
        response = get_ok(client, url)
        if api:
            following = response.json().get("next")
        else:
            found = NEXT_LINK.search(response.content.decode())
            following = url.split("?")[0] + html.unescape(found.group(1)) if found else None
        if not following:
            return None
        url = following
    return url


def raw_sql_of(client: Client, url: str, table: str) -> dict[str, float | int] | None:
    """The page's own query of its rows (the one on its table with a LIMIT), run alone as raw SQL."""
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        get_ok(client, url)
    candidates = [
        q["sql"]
        for q in captured
        if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"] and not q["sql"].startswith("SELECT COUNT")
    ]
    if not candidates:
        return None
    sql = candidates[0]

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()

    measured = measure(run)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(plan, file=sys.stderr)
    # The plan in a few words: the indexes it reads (or that it scans the whole table).
    used = sorted(set(re.findall(r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?using (\w+)", plan)))
    seq = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
    measured["plan"] = ", ".join(used + [f"seq scan {t}" for t in seq])  # type: ignore[assignment]
    return measured


TABLES = {
    "customers": "partner_portal_customer",
    "invoices": "billing_invoice",
    "payments": "billing_payment",
    "subscriptions": "subscriptions_subscription",
    "differences": "subscriptions_subscriptiondifference",
    "tickets": "tickets_ticket",
    "audit log": "partner_portal_auditevent",
    "collections": "partner_portal_customer",
    "escalations": "escalation_escalation",
}


def main() -> None:
    call_command(
        "seed_scale",
        customers=CUSTOMERS,
        partner=PARTNER,
        big_customer_invoices=BIG_CUSTOMER_INVOICES,
        stdout=sys.stderr,
    )
    partner = Partner.objects.get(slug=PARTNER)
    admin = User.objects.get(email=f"admin@{PARTNER}.scale.example")
    superuser, _ = User.objects.get_or_create(
        email="bench-superuser@scale.example", defaults={"is_staff": True, "is_superuser": True}
    )
    staff, api, django_admin = Client(), Client(), Client()
    staff.force_login(admin)
    api.force_login(admin)
    django_admin.force_login(superuser)
    results: dict[str, Any] = {
        "customers": Customer.objects.filter(partner=partner).count(),
        "invoices": Invoice.objects.filter(partner=partner).count(),
        "runs": RUNS,
        "depth_pages": DEPTH,
        "lists": {},
    }
    for name, page, route, admin_path, filters, search in LISTS:
        row: dict[str, Any] = {}
        base = reverse(page)
        row["page 1"] = measure(lambda u=base: get_ok(staff, u))
        deep = deep_page(staff, base, api=False)
        row["page deep"] = measure(lambda u=deep: get_ok(staff, u)) if deep else None
        row["page filter"] = measure(lambda u=page_url(base, filters): get_ok(staff, u)) if filters else None
        row["page search"] = measure(lambda u=page_url(base, search): get_ok(staff, u)) if search else None
        row["raw SQL page 1"] = raw_sql_of(staff, base, TABLES[name])
        if route:
            api_base = reverse(f"v1:{route}")
            row["API 1"] = measure(lambda u=api_base: get_ok(api, u))
            api_deep = deep_page(api, api_base, api=True)
            row["API deep"] = measure(lambda u=api_deep: get_ok(api, u)) if api_deep else None
            api_search = API_SEARCH.get(name)
            row["API search"] = measure(lambda u=page_url(api_base, api_search): get_ok(api, u)) if api_search else None
        if admin_path:
            admin_base = f"/admin/{admin_path}/"
            row["admin 1"] = measure(lambda u=admin_base: get_ok(django_admin, u))
            row["admin deep"] = measure(lambda u=f"{admin_base}?p={DEPTH * 25 // 100 + 1}": get_ok(django_admin, u))
        results["lists"][name] = row
        print(name, json.dumps(row), file=sys.stderr)

    # The self-service page of the customer with the long history: its first page and one deep in.
    big = Customer.objects.filter(partner=partner).order_by("pk").first()
    assert big is not None
    owner, created = User.objects.get_or_create(email=f"bench-owner@{PARTNER}.customer0.example")
    if created:
        Membership.objects.create(user=owner, partner=partner, customer=big, role=Role.CUSTOMER_ADMIN)
    customer = Client()
    customer.force_login(owner)
    home = reverse("customer_home")
    results["self-service"] = {
        "invoices": Invoice.objects.filter(customer=big).count(),
        "page 1": measure(lambda: get_ok(customer, home)),
        "page deep": measure(lambda u=deep_page(customer, home, api=False): get_ok(customer, u)),
    }
    print("self-service", json.dumps(results["self-service"]), file=sys.stderr)

    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged["lists"] = results
    RESULTS.write_text(json.dumps(merged, indent=2) + "\n")
    write_table(results)


def cell(m: dict[str, float | int] | None) -> str:
    return "—" if not m else f"{m['p50_ms']:.1f} / {m['p95_ms']:.1f} ({m['queries']})"


def write_table(results: dict[str, Any]) -> None:
    columns = ["page 1", "page deep", "page filter", "page search", "API 1", "API deep", "API search",
               "admin 1", "admin deep", "raw SQL page 1"]  # fmt: skip
    lines = [
        f"{results['customers']:,} customers, {results['invoices']:,} invoices; p50 / p95 ms over "
        f"{results['runs']} requests (queries per request); deep = {results['depth_pages']} `next` links in.",
        "",
        "| list | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for name, row in results["lists"].items():
        lines.append(f"| {name} | " + " | ".join(cell(row.get(c)) for c in columns) + " |")
    lines += ["", "The page query's plan (EXPLAIN ANALYZE on the seeded data):", ""]
    for name, row in results["lists"].items():
        if row.get("raw SQL page 1"):
            lines.append(f"- {name}: {row['raw SQL page 1'].get('plan') or '—'}")
    own = results["self-service"]
    lines += [
        "",
        f"Self-service page of a customer with {own['invoices']:,} invoices: page 1 {cell(own['page 1'])}, "
        f"{results['depth_pages']} pages in {cell(own['page deep'])}.",
    ]
    text = DOC.read_text()
    if START in text:
        head, rest = text.split(START, 1)
        text = head + START + "\n" + "\n".join(lines) + "\n" + END + rest.split(END, 1)[1]
        DOC.write_text(text)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
