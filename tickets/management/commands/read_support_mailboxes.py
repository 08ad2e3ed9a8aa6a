from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partner_portal.jobs import UnknownPartner
from tickets.mailbox.services import support_mailboxes_read_all


class Command(BaseCommand):
    help = (
        "Read every partner's support mailbox (IMAP) into tickets: replies onto their tickets, new emails "
        "from customers' contacts as tickets, the rest to the quarantine. Safe to run again: each message "
        "is processed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", help="slug of one partner; default: all")

    def handle(self, *args: Any, partner: str | None, **options: Any) -> None:
        try:
            results = support_mailboxes_read_all(slug=partner)
        except UnknownPartner as exc:
            raise CommandError(str(exc)) from exc
        for p, result in results:
            if result.skipped:
                self.stdout.write(f"{p.name}: being read by another worker; skipped")
            elif result.error:
                self.stdout.write(f"{p.name}: mailbox unavailable ({result.error}); tried again next run")
            elif result.read:
                self.stdout.write(f"{p.name}: {result.read} messages read")
