"""Bench data: one partner with many customers, inserted in set-based batches.

Later apps add their rows (subscriptions, invoices) on top of the same partner.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from partner_portal.models import Customer, Partner

BATCH = 5_000
_NAMESPACE = uuid.UUID("0b7f3a52-6d1e-4f8a-9c3b-2e5d7a9f1c4e")


class Command(BaseCommand):
    help = "Create a large partner for benchmarks (idempotent: tops up to the requested counts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--partner", default="scale", help="slug of the bench partner")

    def handle(self, *args: Any, customers: int, partner: str, **options: Any) -> None:
        bench_partner, _ = Partner.objects.get_or_create(
            slug=partner, defaults={"name": f"Scale Partner ({partner})", "microsoft_partner_id": "9990001"}
        )
        have = Customer.objects.for_partner(bench_partner).count()
        languages, currencies = ("en", "ru"), ("USD", "EUR", "GBP", "RUB")
        for start in range(have, customers, BATCH):
            stop = min(start + BATCH, customers)
            with transaction.atomic():
                Customer.objects.bulk_create(
                    Customer(
                        partner=bench_partner,
                        name=f"Customer {i:07d}",
                        tenant_id=uuid.uuid5(_NAMESPACE, f"{partner}:{i}"),
                        domain=f"customer{i}.example",
                        billing_email=f"accounts@customer{i}.example",
                        language=languages[i % 2],
                        currency=currencies[i % 4],
                        credit_days=(14, 30, 45, 60)[i % 4],
                    )
                    for i in range(start, stop)
                )
            self.stdout.write(f"customers: {stop}/{customers}")
        if connection.vendor == "postgresql":
            # Fresh statistics, as autovacuum would give a production table, so plans are realistic.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE partner_portal_customer")
        self.stdout.write(self.style.SUCCESS(f"{bench_partner.name}: {max(have, customers)} customers"))
