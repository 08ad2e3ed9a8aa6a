from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.collections.models import CollectionRun
from billing.collections.services import collections_run_all
from partner_portal.jobs import UnknownPartner


class Command(BaseCommand):
    help = "Run collections (notices, suspensions, reactivations) for a date. Safe to run again the same day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD; default: today in each partner's time zone")
        parser.add_argument("--partner", help="slug of one partner; default: all")

    def handle(self, *args: Any, date: str | None, partner: str | None, **options: Any) -> None:
        try:
            run_date = dt.date.fromisoformat(date) if date else None
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, got {date!r}") from exc
        try:
            runs = collections_run_all(
                run_date=run_date, partner_slug=partner, triggered_by=CollectionRun.Trigger.COMMAND
            )
        except UnknownPartner as exc:
            raise CommandError(str(exc)) from exc
        failed = 0
        for p, run in runs:
            queued = run.details.get("notices_queued", 0)
            self.stdout.write(
                f"{p.name} {run.run_date}: {run.status}, {queued} notices, "
                f"{run.suspensions_requested} suspensions, {run.reactivations_requested} reactivations"
                + "".join(f"\n  error: {e}" for e in run.details.get("errors", []))
            )
            failed += run.status == CollectionRun.Status.FAILED
        if failed:
            raise CommandError(f"{failed} partner run(s) failed")
