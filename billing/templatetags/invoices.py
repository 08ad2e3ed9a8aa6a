"""`{% load invoices %}`: an invoice's row-level truths for templates, which cannot pass arguments to methods.

`{% if invoice|overdue_on:today %}` asks `Invoice.is_overdue(today)`: the one definition of overdue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

register = template.Library()


@register.filter
def overdue_on(invoice: Any, day: dt.date | None) -> bool:
    """Whether the invoice is open past its due date on `day` (False without a day)."""
    return day is not None and bool(invoice.is_overdue(day))
