from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.invoicing.errors import BillingError
from billing.reconciliation.services import reconciliation_import_submit
from partner_portal.models import Partner


class Command(BaseCommand):
    help = (
        "Import a Partner Center reconciliation file for a partner, here and now (no worker needed). "
        "The same file imported again changes nothing; an import left pending by a failed run is run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            help="the reconciliation file, CSV or .xlsx (new-commerce invoice, legacy license-based or usage-based)",
        )
        parser.add_argument("--partner", required=True, help="slug of the partner")
        parser.add_argument("--period", help="YYYY-MM; default: the month most charge lines start in")

    def handle(self, *args: Any, file: str, partner: str, period: str | None, **options: Any) -> None:
        owner = Partner.objects.filter(slug=partner).first()
        if owner is None:
            raise CommandError(f"no partner with slug {partner!r}")
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        try:
            submission = reconciliation_import_submit(
                partner=owner, actor=None, file_name=path.name, content=content, period=period, inline=True
            )
        except BillingError as exc:
            raise CommandError(str(exc)) from exc
        imp = submission.reconciliation_import
        if not submission.created:
            self.stdout.write(f"{path.name} was imported before as import #{imp.pk}.")
        self.stdout.write(
            f"import #{imp.pk} {imp.status}: {imp.kind or 'unknown kind'}, period {imp.period or '-'}, "
            f"{imp.total_lines} lines, {imp.matched_lines} matched, {imp.unmatched_lines} unmatched, "
            f"total {imp.total} {imp.currency}"
        )
        for error in imp.errors[:20]:
            self.stdout.write(f"  row {error['row']}, {error['column'] or 'file'}: {error['message']}")
        if imp.status == imp.Status.REFUSED:
            raise CommandError("the file was refused")
