"""A load test of the portal on the seeded data set: gunicorn serving, locust driving it from another process.

Run with `make bench-load` (PostgreSQL from DATABASE_URL, after `make bench` has seeded the data set with
`bench/lists.py`). As a script it signs in a staff user and a customer user of the bench partner (sessions
in the database, as after a sign-in), starts gunicorn (gunicorn.conf.py, `config.settings.dev` with DEBUG
off) with LOAD_WORKERS workers (default 3) on a loopback port, and runs locust headless against it:
LOAD_USERS users (default 50) for LOAD_SECONDS (default 60); with LOAD_THINK=0 the users do not pause
between requests. Then once more with twice the workers. Each
run's requests per second, p50 / p95 and errors go to bench/results.json (key "load"; BENCH_RESULTS names
another file) and the output; gunicorn's log and locust's CSV files to load/ under PORTAL_VAR_DIR (var/).

Locust reads this same file (`locust -f bench/load.py`) for its users: staff going through the lists
(customers, invoices, payments, subscriptions, tickets, collections), an invoice's page and the API;
customers opening their self-service page and their invoices through the API.
"""

from __future__ import annotations

import csv
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results.json"))
PLAN = json.loads(os.environ.get("LOAD_PLAN", "{}"))  # set by the script for the locust process
# LOAD_THINK=0: no pause between a user's requests (the server's capacity, not a day's traffic).
THINK = os.environ.get("LOAD_THINK", "1") != "0"


class StaffUser(HttpUser):
    """Finance or support staff at work: mostly lists, now and then an invoice or the API."""

    weight = 3
    wait_time = between(1, 3) if THINK else between(0, 0)

    def on_start(self) -> None:
        self.client.cookies.set(PLAN["cookie"], PLAN["staff_session"])

    @task(3)
    def customers(self) -> None:
        self.client.get(PLAN["staff"]["customers"], name="staff: customers")

    @task(3)
    def invoices(self) -> None:
        self.client.get(PLAN["staff"]["invoices"], name="staff: invoices")

    @task(2)
    def payments(self) -> None:
        self.client.get(PLAN["staff"]["payments"], name="staff: payments")

    @task(2)
    def subscriptions(self) -> None:
        self.client.get(PLAN["staff"]["subscriptions"], name="staff: subscriptions")

    @task(3)
    def tickets(self) -> None:
        self.client.get(PLAN["staff"]["tickets"], name="staff: tickets")

    @task(2)
    def collections(self) -> None:
        self.client.get(PLAN["staff"]["collections"], name="staff: collections")

    @task(2)
    def invoice(self) -> None:
        self.client.get(random.choice(PLAN["staff"]["invoice_details"]), name="staff: an invoice")

    @task(2)
    def api(self) -> None:
        self.client.get(random.choice(PLAN["staff"]["api"]), name="API (staff)")


class CustomerUser(HttpUser):
    """A customer's user: its page, and its invoices through the API."""

    weight = 1
    wait_time = between(2, 5) if THINK else between(0, 0)

    def on_start(self) -> None:
        self.client.cookies.set(PLAN["cookie"], random.choice(PLAN["customer_sessions"]))

    @task(3)
    def home(self) -> None:
        self.client.get(PLAN["customer"]["home"], name="customer: self-service page")

    @task(1)
    def api(self) -> None:
        self.client.get(PLAN["customer"]["api"], name="API (customer)")


def plan() -> dict[str, Any]:
    """Sessions and URLs for the locust process (Django set up here, not in locust)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from billing.invoicing.models import Invoice
    from partner_portal.models import Customer, Membership, Partner, Role, User

    slug = os.environ.get("BENCH_PARTNER", "scale")
    partner = Partner.objects.get(slug=slug)
    admin = User.objects.get(email=f"admin@{slug}.scale.example")

    def session(user: User) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    # Customers of an ordinary history (the first one has 20,000 invoices: bench/lists.py measures it).
    customers = list(Customer.objects.filter(partner=partner).order_by("pk")[1:21])
    sessions = []
    for customer in customers:
        owner, created = User.objects.get_or_create(email=f"load-{customer.pk}@{slug}.customer.example")
        if created:
            Membership.objects.create(user=owner, partner=partner, customer=customer, role=Role.CUSTOMER_ADMIN)
        sessions.append(session(owner))
    invoices = Invoice.objects.filter(partner=partner).order_by("-pk").values_list("pk", flat=True)[:200]
    return {
        "cookie": settings.SESSION_COOKIE_NAME,
        "staff_session": session(admin),
        "customer_sessions": sessions,
        "staff": {
            "customers": reverse("customer_list"),
            "invoices": reverse("invoice_list"),
            "payments": reverse("payment_list"),
            "subscriptions": reverse("subscription_list"),
            "tickets": reverse("ticket_list"),
            "collections": reverse("collections_overview"),
            "invoice_details": [reverse("invoice_detail", args=[pk]) for pk in invoices],
            "api": [reverse(f"v1:{route}") for route in ("customer-list", "invoice-list", "subscription-list")],
        },
        "customer": {"home": reverse("customer_home"), "api": reverse("v1:invoice-list")},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def warm_up(port: int, workers: int, load_plan: dict[str, Any]) -> None:
    """Every page a few times per worker before measuring (each worker loads its code and templates)."""
    import urllib.request

    staff = load_plan["staff"]
    urls = [staff[k] for k in ("customers", "invoices", "payments", "subscriptions", "tickets", "collections")]
    urls += staff["api"] + staff["invoice_details"][:1]
    for _ in range(2 * workers):
        for url in urls:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{url}",
                headers={"Cookie": f"{load_plan['cookie']}={load_plan['staff_session']}"},
            )
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                response.read()


def run(workers: int, users: int, seconds: int, load_plan: dict[str, Any]) -> dict[str, Any]:
    """gunicorn with `workers` workers, locust with `users` users for `seconds`: the aggregated figures."""
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "false", "LOG_LEVEL": "WARNING"}
    out = Path(os.environ.get("PORTAL_VAR_DIR", ROOT / "var")) / "load"
    out.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(  # noqa: S603  (our own command)
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "gunicorn.conf.py", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=(out / f"gunicorn-{workers}.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        warm_up(port, workers, load_plan)
        prefix = out / f"w{workers}"
        subprocess.run(  # noqa: S603  (our own command)
            [sys.executable, "-m", "locust", "-f", str(Path(__file__).resolve()), "--headless", "-u", str(users),
             "-r", str(max(1, users // 10)), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
             "--csv", str(prefix), "--only-summary", "--stop-timeout", "10"],
            cwd=ROOT, env={**env, "LOAD_PLAN": json.dumps(load_plan)}, check=False,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = {row["Name"]: row for row in csv.DictReader((out / f"w{workers}_stats.csv").open())}
    figures: dict[str, Any] = {}
    for name, row in rows.items():
        figures[name] = {
            "requests": int(row["Request Count"]),
            "errors": int(row["Failure Count"]),
            "req_per_s": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
        }
    return {"workers": workers, "users": users, "seconds": seconds, "requests": figures}


def main() -> None:
    users = int(os.environ.get("LOAD_USERS", "50"))
    seconds = int(os.environ.get("LOAD_SECONDS", "60"))
    workers = int(os.environ.get("LOAD_WORKERS", "3"))
    load_plan = plan()
    runs = [run(n, users, seconds, load_plan) for n in (workers, workers * 2)]
    for r in runs:
        total = r["requests"]["Aggregated"]
        print(
            f"{r['workers']} gunicorn workers, {users} users, {seconds} s: {total['req_per_s']} req/s, "
            f"p50 {total['p50_ms']} ms, p95 {total['p95_ms']} ms, {total['errors']} errors of {total['requests']}"
        )
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["load" if THINK else "load_no_think"] = runs
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
