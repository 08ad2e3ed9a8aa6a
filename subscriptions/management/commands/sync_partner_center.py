from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partner_portal.models import Partner
from subscriptions.errors import PartnerCenterError
from subscriptions.models import PartnerCenterAccount
from subscriptions.services.sync import partner_center_sync


class Command(BaseCommand):
    help = (
        "Create or update the portal's customers and subscriptions from Partner Center (every partner with a "
        "Partner Center account, or one). Safe to run again; sale prices are never overwritten."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", help="slug of the one partner to sync")

    def handle(self, *args: Any, partner: str | None, **options: Any) -> None:
        partners = Partner.objects.filter(
            pk__in=PartnerCenterAccount.objects.values("partner_id")
        ).exclude(cloud=Partner.Cloud.GERMANY).order_by("slug")  # fmt: skip
        if partner:
            partners = partners.filter(slug=partner)
            if not partners.exists():
                raise CommandError(f"no partner {partner!r} with a Partner Center account in an open cloud")
        failed = False
        for each in partners:
            try:
                result = partner_center_sync(partner=each)
            except PartnerCenterError as exc:
                failed = True
                self.stderr.write(f"{each.slug}: {exc.staff_message or exc}")
                continue
            self.stdout.write(
                f"{each.slug}: {result.customers_created} customer(s) and {result.subscriptions_created} "
                f"subscription(s) created, {result.subscriptions_updated} subscription(s) updated, "
                f"{len(result.skipped)} skipped"
            )
        if failed:
            raise CommandError("Partner Center could not be read for every partner")
