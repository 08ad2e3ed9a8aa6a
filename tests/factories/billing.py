"""Billing factories and helpers: drafts and issued invoices through the real services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.invoicing.models import Invoice
from billing.invoicing.services import LineInput, invoice_draft_create, invoice_issue
from partner_portal.models import Customer


def line(
    description: str = "Microsoft 365 E3", quantity: str = "10", unit_price: str = "36.00", tax_rate: str = "20.00"
) -> LineInput:
    return LineInput(
        description=description, quantity=Decimal(quantity), unit_price=Decimal(unit_price), tax_rate=Decimal(tax_rate)
    )


def draft(customer: Customer, *lines: LineInput) -> Invoice:
    return invoice_draft_create(partner=customer.partner, customer=customer, actor=None, lines=list(lines) or [line()])


def issued(customer: Customer, *lines: LineInput, on: dt.date | None = None) -> Invoice:
    return invoice_issue(invoice=draft(customer, *lines), actor=None, issue_date=on or dt.date(2026, 11, 2))


def assert_ledger_consistent() -> None:
    """Run `check_ledger` over every partner: the final assertion of the tests that race writers."""
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    try:
        call_command("check_ledger", stdout=out)
    except CommandError as exc:
        raise AssertionError(f"the ledger does not add up:\n{out.getvalue()}") from exc
    assert "no differences" in out.getvalue()
