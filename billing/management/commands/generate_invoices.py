from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.invoicing.services import invoices_generate, period_bounds, previous_period
from partner_portal import clock
from partner_portal.models import Partner


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
        partners = Partner.objects.order_by("pk")
        if partner:
            partners = partners.filter(slug=partner)
            if not partners.exists():
                raise CommandError(f"no partner with slug {partner!r}")
        for p in partners:
            result = invoices_generate(
                partner=p, period=period or previous_period(clock.today(p.time_zone)), issue=issue
            )
            self.stdout.write(
                f"{p.name} {result.period}: {len(result.created)} created"
                f"{f' ({result.issued} issued)' if issue else ''}, {result.skipped_existing} already there"
            )
