"""Reading a reconciliation file's bytes as partners have them: rows of text cells, header first.

- CSV as Partner Center writes it, or as Excel saves it again: UTF-8 with or without a byte order
  mark, UTF-16 (LE or BE) with its byte order mark ("Unicode text", tab-delimited), and a delimiter
  sniffed from the header among `,`, `;` (Excel in Russian or German locales) and tab.
- `.xlsx` workbooks (a ZIP file), through openpyxl in read-only mode: the first sheet, header in its
  first row. Numbers come out of the workbook in their shortest exact spelling (`1.2e-05`), never
  through a float rounding, so Decimal reads what the cell holds; dates as YYYY-MM-DD.

Pure functions on a binary stream, no database; a file that is neither text nor a workbook raises
`FileRefused` with a sentence.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext_noop

from billing.reconciliation.values import FileRefused, RowError

DELIMITERS = (",", ";", "\t")
_SNIFF_BYTES = 4096
_NOT_TEXT = gettext_noop(
    "The file is neither text (UTF-8, or UTF-16 with its byte order mark) nor an Excel workbook (.xlsx): "
    "upload the reconciliation file as Partner Center gives it, or as Excel saves it."
)


def not_text(row: int = 1) -> FileRefused:
    return FileRefused([RowError(row, "", _NOT_TEXT)])


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: whichever of `,` `;` tab appears most outside quotes (`,` on a tie)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


class Rows:
    """The records of a file, and its delimiter (None for a workbook, whose cells are typed)."""

    def __init__(self, rows: Iterator[list[str]], delimiter: str | None) -> None:
        self._rows, self.delimiter = rows, delimiter

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        return next(self._rows)


def rows_from_text(lines: Iterable[str]) -> Rows:
    """Records of CSV text (lines with their line breaks), the delimiter sniffed from the first line.
    Multi-line quoted fields are one record, as in a spreadsheet."""
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return Rows(iter(()), ",")
    first = first.lstrip("\ufeff")
    delimiter = sniff_delimiter(first)
    return Rows(csv.reader(itertools.chain([first], it), delimiter=delimiter), delimiter)


def _encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the byte order mark says which; it is not part of the text
    if b"\x00" in head:
        raise not_text()  # UTF-16 without its mark, or binary data
    return "utf-8-sig"  # with or without the UTF-8 byte order mark


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)  # the shortest spelling that is exactly this number: 1.2e-05, not 1.19999...e-05
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _workbook_rows(raw: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # only a workbook needs it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(raw, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FileRefused(
            [
                RowError(
                    1, "", gettext_noop("The file is a ZIP archive but not an Excel workbook (.xlsx) that can be read.")
                )
            ]
        ) from exc
    try:
        if not book.worksheets:
            return
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        book.close()


def is_workbook(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def rows_from_binary(raw: IO[bytes]) -> Rows:
    """Records of a stored file: a workbook's first sheet, or CSV text in any encoding it may have.

    Raises FileRefused at once for a file that is neither; UnicodeDecodeError from the iterator when
    text turns out not to be UTF-8 further on."""
    head = raw.read(_SNIFF_BYTES)
    raw.seek(0)
    if is_workbook(head):
        return Rows(_workbook_rows(raw), None)
    text = io.TextIOWrapper(raw, encoding=_encoding(head), newline="")
    rows = rows_from_text(text)
    return Rows(_detaching(text, rows), rows.delimiter)


def _detaching(text: io.TextIOWrapper, rows: Iterator[list[str]]) -> Iterator[list[str]]:
    try:
        yield from rows
    finally:
        text.detach()  # the caller's file object closes itself


def header_of(content: bytes) -> list[str]:
    """The first row of a file's bytes, [] when it cannot be read."""
    try:
        return next(rows_from_binary(io.BytesIO(content)), [])
    except (FileRefused, UnicodeDecodeError, csv.Error):
        return []
