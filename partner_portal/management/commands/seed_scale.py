"""Bench data at scale: a partner of many customers (or many partners of a few), with each app's rows.

The core seeds partners, a partner admin and customers (`partner_portal.scale`); each app adds its part
from `<app>.scale` (or the module its AppConfig names in `scale_module`), found through the app registry
in INSTALLED_APPS order, so the core never names the apps built on it. Set-based, reproducible from
`--seed`, idempotent: a re-run tops up to the requested counts.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from partner_portal import clock
from partner_portal.scale import ScaleRun, analyze, audit_seed, customers_seed, partner_ensure

SHAPES = ("one-partner", "many-partners")


class Command(BaseCommand):
    help = (
        "Create bench data: customers, subscriptions, invoices with lines, payments, tickets "
        "(idempotent: tops up to the requested counts). PostgreSQL only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shape", choices=SHAPES, default="one-partner")
        parser.add_argument(
            "--customers", type=int, default=100_000, help="customers of the partner (one-partner shape)"
        )
        parser.add_argument("--partner", default="scale", help="slug of the bench partner (prefix for many-partners)")
        parser.add_argument("--partners", type=int, default=1_000, help="partners of the many-partners shape")
        parser.add_argument("--customers-per-partner", type=int, default=100, help="for the many-partners shape")
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same data")
        parser.add_argument(
            "--big-customer-invoices",
            type=int,
            default=0,
            help="extra invoices of the first customer (the self-service page of a long history)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale writes set-based SQL for PostgreSQL; set DATABASE_URL.")
        for name in ("customers", "partners", "customers_per_partner", "big_customer_invoices"):
            if options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} cannot be negative.")
        parts = []
        for config in apps.get_app_configs():
            module = getattr(config, "scale_module", f"{config.name}.scale")
            if config.name != "partner_portal" and importlib.util.find_spec(module) is not None:
                parts.append(importlib.import_module(module))
        if options["shape"] == "one-partner":
            targets = [(options["partner"], "Scale Partner", options["customers"])]
        else:
            targets = [
                (f"{options['partner']}-{n:04d}", f"Scale Partner {n:04d}", options["customers_per_partner"])
                for n in range(options["partners"])
            ]
        today = clock.today()
        started = time.monotonic()
        tables: set[str] = {"partner_portal_customer", "partner_portal_auditevent"}
        for number, (slug, name, customers) in enumerate(targets):
            with transaction.atomic():
                partner, staff = partner_ensure(slug=slug, name=name)
                run = ScaleRun(
                    partner=partner,
                    seed=options["seed"],
                    today=today,
                    staff=staff,
                    big_customer_invoices=options["big_customer_invoices"],
                )
                added = {"customers": customers_seed(run, customers=customers)}
                # Statistics after each big insert: without them the next part's plan joins rows the
                # planner believes are not there (nested loops over hundreds of thousands of rows).
                fresh = customers >= 1_000 or number % 100 == 0
                if fresh:
                    analyze(["partner_portal_customer"])
                for part in parts:
                    added.update(part.seed_scale(run))
                    if fresh:
                        analyze(list(getattr(part, "TABLES", ())))
                    tables.update(getattr(part, "TABLES", ()))
                added["audit events"] = audit_seed(run) + added.get("audit events", 0)
            if len(targets) == 1 or number % 100 == 0 or number == len(targets) - 1:
                summary = ", ".join(f"{k} +{v:,}" for k, v in added.items())
                self.stdout.write(f"{slug}: {summary} ({time.monotonic() - started:.0f} s)")
        analyze(sorted(tables))
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.0f} s."))
