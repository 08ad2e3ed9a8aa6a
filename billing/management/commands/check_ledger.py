from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.invoicing.ledger import ledger_counts, ledger_differences
from partner_portal.jobs import UnknownPartner, partners_for_job


class Command(BaseCommand):
    help = (
        "Check that every invoice, payment and customer credit adds up to its sources. "
        "Prints each difference and exits 1 if there is any; read only, safe at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", help="slug of one partner; default: all")

    def handle(self, *args: Any, partner: str | None, **options: Any) -> None:
        try:
            one = partners_for_job(slug=partner).get() if partner else None
        except UnknownPartner as exc:
            raise CommandError(str(exc)) from exc
        differences = ledger_differences(partner=one)
        for difference in differences:
            self.stdout.write(str(difference))
        if differences:
            raise CommandError(f"{len(differences)} difference(s) in the ledger")
        counts = ledger_counts(partner=one)
        self.stdout.write(
            f"Ledger consistent: {counts['invoices']} invoices, {counts['payments']} payments"
            + (f" of {one.slug}" if one else "")
            + ", no differences."
        )
