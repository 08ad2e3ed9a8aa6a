"""The overdue total that gates a step after the due date, worked out by a binary search over the
due dates, agrees with summing every invoice due before the day, on every day around them."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from billing.collections.next_steps import OpenInvoice, _overdue_on
from billing.invoicing.models import ZERO, is_past_due


def test_the_overdue_total_on_any_day_is_the_sum_of_the_invoices_due_before_it() -> None:
    rng = random.Random(20261206)  # noqa: S311 - test data, reproducible
    start = dt.date(2026, 1, 1)
    invoices = [
        OpenInvoice(
            pk, f"INV-{pk}", start + dt.timedelta(days=rng.randrange(60)), Decimal(rng.randrange(1, 100_000)) / 100
        )
        for pk in range(400)
    ]  # several invoices share a due date
    overdue_on = _overdue_on(invoices)
    for offset in range(-2, 63):
        day = start + dt.timedelta(days=offset)
        assert overdue_on(day) == sum((i.balance for i in invoices if is_past_due(i.due_date, day)), ZERO), day
    assert _overdue_on([])(start) == ZERO
