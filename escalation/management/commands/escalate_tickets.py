from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from escalation.services import CheckResult, escalation_checks_run
from partner_portal import clock
from partner_portal.jobs import UnknownPartner


def _moment(value: str) -> dt.datetime:
    """An ISO 8601 date-time; without an offset it is read as UTC. A date alone means its 00:00 UTC."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--at must be an ISO 8601 date-time, e.g. 2026-11-30T09:05:00+00:00 (got {value!r})"
        ) from exc
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "Escalate tickets past their resolution target to Microsoft (once per ticket) and send due breach "
        "notices (once per ticket and kind, within business hours). Safe to run again or concurrently."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", help="run as of this ISO 8601 date-time (default: now)")
        parser.add_argument("--partner", help="slug of one partner; default: all")

    def handle(self, *args: Any, at: str | None, partner: str | None, **options: Any) -> None:
        moment = _moment(at) if at else clock.now()
        try:
            results = escalation_checks_run(at=moment, partner_slug=partner)
        except UnknownPartner as exc:
            raise CommandError(str(exc)) from exc
        total = CheckResult()
        for p, result in results:
            total.merge(result)
            self.stdout.write(
                f"{p.name}: {len(result.escalated)} escalated, {len(result.not_entitled)} not entitled, "
                f"{len(result.notices)} notices sent"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"As of {moment.isoformat()}: {len(total.escalated)} escalated, {len(total.notices)} notices sent."
            )
        )
