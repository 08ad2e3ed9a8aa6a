"""Every CSV export is safe to open in a spreadsheet: text that would start a formula is kept as text,
numbers stay numbers (the exports themselves: tests/billing/invoicing/test_exports.py)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from partner_portal.csvexport import safe_cell

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","Click")', '\'=HYPERLINK("http://evil.example","Click")'),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Contoso", "Contoso"),
        (Decimal("-50.00"), Decimal("-50.00")),
        (-3, -3),
    ],
)
def test_safe_cell(value: object, written: object) -> None:
    assert safe_cell(value) == written
