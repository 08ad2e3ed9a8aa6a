from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partner_portal import clock
from subscriptions.models import SubscriptionChange
from subscriptions.services import subscription_change_push, subscription_changes_push_due


class Command(BaseCommand):
    help = (
        "Push subscription changes still waiting for Microsoft (the retry sweep the scheduler runs every "
        "5 minutes). Safe to run again: a change already confirmed or being worked is not sent twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="run as of this time (ISO 8601, e.g. 2026-11-30T09:00:00+00:00)")
        parser.add_argument(
            "--now", action="store_true", help="push in this process, one after another, instead of queueing"
        )

    def handle(self, *args: Any, date: str | None, now: bool, **options: Any) -> None:
        at = clock.now()
        if date:
            try:
                at = dt.datetime.fromisoformat(date)
            except ValueError as exc:
                raise CommandError(f"not an ISO 8601 time: {date!r}") from exc
            if at.tzinfo is None:
                at = at.replace(tzinfo=dt.UTC)
        with clock.frozen(at):
            if now:
                due = SubscriptionChange.objects.filter(
                    state=SubscriptionChange.State.PENDING, next_attempt_at__lte=at
                ).values_list("pk", flat=True)
                for change_id in list(due):
                    change = subscription_change_push(change_id=change_id)
                    self.stdout.write(f"change {change_id}: {change.state}")
                return
            queued = subscription_changes_push_due()
        self.stdout.write(f"{len(queued)} change(s) queued for Partner Center")
