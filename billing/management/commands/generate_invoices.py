from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.invoicing.services import invoices_generate_all, period_bounds
from partner_portal.jobs import UnknownPartner


class Command(BaseCommand):
    help = "Create each customer's invoice for a billing period from its subscriptions. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="YYYY-MM; default: the previous month in each partner's time zone")
        parser.add_argument("--partner", help="slug of one partner; default: all")
        parser.add_argument("--issue", action="store_true", help="issue the new invoices at once (default: drafts)")

    def handle(self, *args: Any, period: str | None, partner: str | None, issue: bool, **options: Any) -> None:
        if period:
            try:
                period_bounds(period)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        try:
            results = invoices_generate_all(period=period, partner_slug=partner, issue=issue)
        except UnknownPartner as exc:
            raise CommandError(str(exc)) from exc
        for p, result in results:
            self.stdout.write(
                f"{p.name} {result.period}: {len(result.created)} created"
                f"{f' ({result.issued} issued)' if issue else ''}, {result.skipped_existing} already there"
            )
