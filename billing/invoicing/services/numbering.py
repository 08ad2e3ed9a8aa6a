"""Gapless number series per partner, kind and year."""

from __future__ import annotations

from django.db import transaction

from billing.invoicing.models import NumberSeries
from partner_portal.models import Partner


def number_next(*, partner: Partner, kind: str, year: int) -> str:
    """The next number of the series, e.g. INV-2026-000042. Call inside the issuing transaction.

    The series row stays locked until that transaction ends: concurrent issues queue behind it and
    take consecutive numbers, and a rollback returns the number, so the series never has a gap.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_next must run inside the transaction that uses the number")
    # Create the row if this is the year's first number; a concurrent creator makes this a no-op.
    NumberSeries.objects.bulk_create([NumberSeries(partner=partner, kind=kind, year=year)], ignore_conflicts=True)
    series = NumberSeries.objects.select_for_update().get(partner=partner, kind=kind, year=year)
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return f"{kind}-{year}-{series.last_number:06d}"
