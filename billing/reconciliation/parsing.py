"""Reading Partner Center reconciliation files into charge rows: pure functions, no database.

`reading` turns the bytes into rows of text (CSV in any delimiter and encoding partners have, or an
.xlsx workbook), `layouts` tells the kind of file from its header and which columns hold what, and
`values` reads the cells. Every imported kind is mapped to one row shape, `ChargeRow`; a kind the
portal does not import is refused with a sentence naming it and the file to upload instead.

Row numbers are what a spreadsheet shows: the header is row 1, the first charge row 2.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext_noop

from billing.reconciliation.layouts import (
    KIND_NAMES,
    LAYOUTS,
    LEGACY,
    LEGACY_USAGE,
    NEW_COMMERCE,
    NOT_IMPORTED,
    detect_kind,
    norm,
)
from billing.reconciliation.reading import Rows, not_text, rows_from_binary, rows_from_text
from billing.reconciliation.values import (
    CURRENCY,
    FOUR_PLACES,
    FOUR_PLACES_LIMIT,
    MONEY,
    MONEY_LIMIT,
    FileRefused,
    RowError,
    ValueRefused,
    parse_date,
    parse_decimal,
    to_places,
)

__all__ = [
    "KIND_NAMES", "LEGACY", "LEGACY_USAGE", "NEW_COMMERCE", "ChargeRow", "FileRefused", "RowError", "Summary",
    "check_file", "detect_kind", "file_kind", "parse_date", "parse_decimal", "read_charges",
]  # fmt: skip

MAX_ERRORS = 1000  # a file that is wrong throughout is refused with the first errors, not a million
# What a file can be given as: its bytes, a binary file, or lines of CSV text.
Source = bytes | IO[bytes] | Iterable[str]


@dataclass(frozen=True, slots=True)
class ChargeRow:
    """One charge line, the same shape for both kinds of file."""

    row_number: int
    customer_id: str  # the customer's Microsoft tenant ID, a GUID in canonical lower-case form
    customer_name: str
    customer_domain: str
    subscription_id: str
    product: str
    charge_type: str
    charge_start: dt.date | None
    charge_end: dt.date | None
    unit_price: Decimal  # four places
    quantity: Decimal  # four places
    subtotal: Decimal  # two places
    tax: Decimal
    total: Decimal
    currency: str
    is_usage: bool


@dataclass
class Summary:
    """What checking a whole file found: its kind, errors, and the figures an import needs."""

    kind: str = ""
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    bad_rows: int = 0  # charge rows with at least one error
    currency: str = ""
    total: Decimal = Decimal("0.00")
    customer_ids: set[str] = field(default_factory=set)
    subscription_ids: set[str] = field(default_factory=set)
    months: Counter[str] = field(default_factory=Counter)  # "2026-11" -> rows whose charge starts then
    _last_row: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, error: RowError) -> None:
        if error.row > 1 and error.row != self._last_row:
            self.bad_rows += 1
        self._last_row = error.row
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def error_list(self) -> list[dict[str, Any]]:
        listed = [e.as_dict() for e in self.errors]
        if self.error_count > len(self.errors):
            more = self.error_count - len(self.errors)
            listed.append(
                RowError(0, "", gettext_noop("… and %(count)s more errors not listed."), {"count": more}).as_dict()
            )
            listed[-1]["row"] = None
        return listed

    @property
    def period(self) -> str:
        """The month most charge lines start in (the earliest of equally common ones), or ""."""
        if not self.months:
            return ""
        return min(self.months.items(), key=lambda item: (-item[1], item[0]))[0]


@dataclass(frozen=True)
class _Columns:
    """Indexes of the columns a file has, resolved once from its header."""

    kind: str
    index: dict[str, int]  # field name -> column index
    names: dict[str, str]  # field name -> the column's name as the file spells it
    product: tuple[int, ...]
    product_name: str
    usage: bool
    decimal_comma: bool = False  # numbers may be written "36,00" (the file is not comma-separated)


def _resolve(header: Sequence[str]) -> _Columns:
    kind = detect_kind(header)
    if kind is None:
        raise FileRefused(
            [
                RowError(
                    1,
                    "",
                    gettext_noop(
                        "This is not a Partner Center reconciliation file: its header has the columns of none of "
                        "the files Microsoft documents."
                    ),
                )
            ]
        )
    if kind in NOT_IMPORTED:
        raise FileRefused([RowError(1, "", NOT_IMPORTED[kind])], kind=kind)
    positions: dict[str, int] = {}
    spelled: dict[str, str] = {}
    for i, name in enumerate(header):
        positions.setdefault(norm(name), i)  # a repeated column: the first one counts
        spelled.setdefault(norm(name), name.strip().lstrip("\ufeff"))
    layout = LAYOUTS[kind]
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    missing: list[str] = []
    for attr in (
        "customer_id", "customer_name", "subscription_id", "charge_type", "charge_start", "charge_end",
        "unit_price", "quantity", "subtotal", "tax", "total", "currency",
    ):  # fmt: skip
        column: str = getattr(layout, attr)
        if column.lower() in positions:
            index[attr], names[attr] = positions[column.lower()], spelled[column.lower()]
        else:
            missing.append(column)
    for attr in ("customer_domain", "meter"):
        optional: str | None = getattr(layout, attr)
        if optional and optional.lower() in positions:
            index[attr], names[attr] = positions[optional.lower()], spelled[optional.lower()]
    product = tuple(positions[c.lower()] for c in layout.product if c.lower() in positions)
    if not product:
        missing.append(" or ".join(layout.product))
    if missing:
        raise FileRefused(
            [
                RowError(1, column, gettext_noop("The column %(column)s is missing."), {"column": column}) for column in missing
            ],
            kind=kind,
        )  # fmt: skip
    product_name = next(spelled[c.lower()] for c in layout.product if c.lower() in positions)
    return _Columns(kind=kind, index=index, names=names, product=product, product_name=product_name, usage=layout.usage)


def _records(source: Source) -> Rows:
    if isinstance(source, bytes | bytearray):
        return rows_from_binary(io.BytesIO(source))
    if hasattr(source, "read"):
        return rows_from_binary(source)  # type: ignore[arg-type]
    return rows_from_text(source)


def read_charges(
    source: Source, *, on_row: Callable[[int], None] | None = None
) -> tuple[str, Iterator[ChargeRow | RowError]]:
    """The kind of file and an iterator over its charge rows (or the errors of each bad row).

    `source` is the file's bytes, a binary file (CSV in any encoding and delimiter partners have, or
    an .xlsx workbook) or lines of CSV text. Raises FileRefused at once when the file as a whole
    cannot be read (not text, no header, a kind not imported, missing columns), and from the
    iterator when its text turns out not to be UTF-8. `on_row(n)` is called with the row number of
    every record read, for progress.
    """
    try:
        records = _records(source)
        rows = enumerate(records, start=1)
        first = next(rows, None)
    except UnicodeError as exc:
        raise not_text() from exc
    except csv.Error as exc:
        raise FileRefused(
            [RowError(1, "", gettext_noop("The header cannot be read: %(reason)s."), {"reason": str(exc)})]
        ) from exc
    if first is None or not any(cell.strip() for cell in first[1]):
        raise FileRefused([RowError(1, "", gettext_noop("The file is empty: a header row is expected."))])
    # Excel in a locale whose decimal separator is the comma saves CSV with `;` (or tab) and "36,00".
    columns = dataclasses.replace(_resolve(first[1]), decimal_comma=records.delimiter not in (None, ","))
    return columns.kind, _charges(rows, columns, on_row)


def _charges(
    rows: Iterator[tuple[int, list[str]]], columns: _Columns, on_row: Callable[[int], None] | None
) -> Iterator[ChargeRow | RowError]:
    currency = ""  # the file's currency: that of its first row
    row_number = 1
    while True:
        try:
            item = next(rows, None)
        except UnicodeError as exc:
            raise not_text(row_number + 1) from exc
        except csv.Error as exc:
            yield RowError(
                row_number + 1, "", gettext_noop("The row cannot be read: %(reason)s."), {"reason": str(exc)}
            )
            return
        if item is None:
            return
        row_number, cells = item
        if on_row is not None:
            on_row(row_number)
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, e.g. at the end of the file
        result = _charge(row_number, cells, columns, currency)
        if isinstance(result, ChargeRow):
            currency = currency or result.currency
            yield result
            continue
        if not currency:
            given = _cell(cells, columns.index["currency"]).strip().upper()
            currency = given if CURRENCY.match(given) else ""
        yield from result


def _cell(cells: list[str], i: int) -> str:
    return cells[i] if i < len(cells) else ""  # a short row: missing trailing cells are empty


def _charge(row: int, cells: list[str], columns: _Columns, file_currency: str) -> ChargeRow | list[RowError]:
    idx, names = columns.index, columns.names
    errors: list[RowError] = []

    def text(attr: str) -> str:
        return _cell(cells, idx[attr]).strip() if attr in idx else ""

    customer_id = ""
    raw_customer = text("customer_id")
    if not raw_customer:
        errors.append(RowError(row, names["customer_id"], gettext_noop("The Microsoft customer ID is missing.")))
    else:
        try:
            customer_id = str(uuid.UUID(raw_customer))
        except ValueError:
            errors.append(
                RowError(
                    row,
                    names["customer_id"],
                    gettext_noop("%(value)s is not a Microsoft customer ID (a GUID)."),
                    {"value": repr(raw_customer)},
                )
            )

    dates: dict[str, dt.date | None] = {}
    for attr in ("charge_start", "charge_end"):
        try:
            dates[attr] = parse_date(text(attr))
        except ValueRefused as exc:
            dates[attr] = None
            errors.append(RowError(row, names[attr], exc.message, exc.params))

    numbers: dict[str, Decimal] = {}
    for attr, places, limit in (
        ("unit_price", FOUR_PLACES, FOUR_PLACES_LIMIT),
        ("quantity", FOUR_PLACES, FOUR_PLACES_LIMIT),
        ("subtotal", MONEY, MONEY_LIMIT),
        ("tax", MONEY, MONEY_LIMIT),
        ("total", MONEY, MONEY_LIMIT),
    ):
        raw = text(attr)
        try:
            numbers[attr] = to_places(parse_decimal(raw, decimal_comma=columns.decimal_comma), places, limit, raw)
        except ValueRefused as exc:
            errors.append(RowError(row, names[attr], exc.message, exc.params))

    currency = text("currency").upper()
    if not CURRENCY.match(currency):
        errors.append(
            RowError(
                row, names["currency"], gettext_noop("%(value)s is not a currency code."), {"value": repr(currency)}
            )
            if currency
            else RowError(row, names["currency"], gettext_noop("The currency is missing."))
        )
    elif file_currency and currency != file_currency:
        errors.append(
            RowError(
                row,
                names["currency"],
                gettext_noop("The currency %(currency)s differs from the file's currency %(file)s."),
                {"currency": currency, "file": file_currency},
            )
        )

    if errors:
        return errors
    charge_type = text("charge_type")
    product = next((p for p in (_cell(cells, i).strip() for i in columns.product) if p), "")
    return ChargeRow(
        row_number=row,
        customer_id=customer_id,
        customer_name=text("customer_name")[:200],
        customer_domain=text("customer_domain")[:253],
        subscription_id=text("subscription_id")[:64],
        product=product[:300],
        charge_type=charge_type[:100],
        charge_start=dates["charge_start"],
        charge_end=dates["charge_end"],
        unit_price=numbers["unit_price"],
        quantity=numbers["quantity"],
        subtotal=numbers["subtotal"],
        tax=numbers["tax"],
        total=numbers["total"],
        currency=currency,
        is_usage=columns.usage or "usage" in charge_type.lower() or bool(text("meter")),
    )


def check_file(source: Source, *, on_row: Callable[[int], None] | None = None) -> Summary:
    """Read the whole file once and check every row; keep no rows, only what an import needs.

    A file that cannot be read at all gives a summary with its one error (no rows).
    """
    summary = Summary()
    try:
        summary.kind, charges = read_charges(source, on_row=on_row)
        for item in charges:
            if isinstance(item, RowError):
                summary.add_error(item)
                continue
            summary.rows += 1
            summary.currency = summary.currency or item.currency
            summary.total += item.total
            summary.customer_ids.add(item.customer_id)
            if item.subscription_id:
                summary.subscription_ids.add(item.subscription_id)
            if item.charge_start is not None:
                summary.months[f"{item.charge_start:%Y-%m}"] += 1
    except FileRefused as refused:
        summary.kind = summary.kind or refused.kind
        for error in refused.errors:
            summary.add_error(error)
        return summary
    if summary.ok and summary.rows == 0:
        summary.add_error(RowError(1, "", gettext_noop("The file has a header but no charge rows.")))
    return summary


def file_kind(header: Sequence[str]) -> str:
    """The kind of file a header belongs to ("" when it is none)."""
    return detect_kind(header) or ""
