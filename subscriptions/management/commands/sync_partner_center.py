from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from subscriptions.models import PartnerCenterSync
from subscriptions.services import partner_center_sync_partners, partner_center_syncs_run


class Command(BaseCommand):
    help = (
        "Create or update the portal's customers and subscriptions from Partner Center (every partner with a "
        "Partner Center account, or one), as the nightly job does. Safe to run again; sale prices are never "
        "overwritten."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", help="slug of the one partner to sync")

    def handle(self, *args: Any, partner: str | None, **options: Any) -> None:
        if settings.PARTNER_CENTER_BACKEND != "http":
            raise CommandError("PARTNER_CENTER_BACKEND is not http: the record-only backend has nothing to sync from")
        partners = partner_center_sync_partners()
        if partner:
            partners = partners.filter(slug=partner)
            if not partners.exists():
                raise CommandError(f"no partner {partner!r} with a Partner Center account in an open cloud")
        failed = False
        for sync in partner_center_syncs_run(partners=partners, trigger=PartnerCenterSync.Trigger.COMMAND):
            slug = sync.partner.slug
            if sync.status == PartnerCenterSync.Status.FAILED:
                failed = True
                self.stderr.write(f"{slug}: {sync.error}")
            elif sync.status != PartnerCenterSync.Status.DONE:
                self.stdout.write(f"{slug}: a sync is already running (#{sync.pk}); left to it")
            else:
                self.stdout.write(
                    f"{slug}: {sync.customers_created} customer(s) and {sync.subscriptions_created} "
                    f"subscription(s) created, {sync.subscriptions_updated} subscription(s) updated, "
                    f"{len(sync.skipped)} skipped"
                )
        if failed:
            raise CommandError("Partner Center could not be read for every partner")
