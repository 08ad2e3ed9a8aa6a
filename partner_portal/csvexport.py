"""CSV for people to open in spreadsheet programs: every export writes through `csv_stream`.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula
(`=HYPERLINK(...)`, `-2+3+cmd|...`); such a cell gets a leading `'`, so it shows as the text it is.
Numbers (Decimal, int, float) are written as they are, so a negative amount stays a number; dates and
other values are not text either. Only str values are neutralised.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value to write: a text cell a spreadsheet would take as a formula is prefixed with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer in a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """The lines of a CSV file with a UTF-8 byte-order mark (so spreadsheet programs read Cyrillic),
    the header and each row, every cell through `csv_cell`."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])
