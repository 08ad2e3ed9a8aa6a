from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.invoicing.services import period_bounds
from partner_portal.jobs import UnknownPartner
from tickets.services import support_charges_bill_all


class Command(BaseCommand):
    help = (
        "Put billable support time (hourly offerings) and per-incident charges of a month on each customer's "
        "draft invoice. Safe to run again: nothing is billed twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="YYYY-MM; default: the previous month in each partner's time zone")
        parser.add_argument("--partner", help="slug of one partner; default: all")

    def handle(self, *args: Any, period: str | None, partner: str | None, **options: Any) -> None:
        if period:
            try:
                period_bounds(period)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        try:
            results = support_charges_bill_all(period=period, partner_slug=partner)
        except UnknownPartner as exc:
            raise CommandError(str(exc)) from exc
        for p, result in results:
            self.stdout.write(
                f"{p.name} {result.period}: {result.lines} support lines on {len(result.invoices)} invoices "
                f"({result.time_entries} time entries, {result.incidents} incidents"
                f"{f', {result.skipped_other_currency} skipped: other currency' if result.skipped_other_currency else ''})"
            )
