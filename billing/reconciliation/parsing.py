"""Reading Partner Center reconciliation files: pure functions, no database.

Two kinds of file are read, told apart by their header:

- the new-commerce invoice reconciliation file (PartnerId, CustomerId, CustomerName,
  CustomerDomainName, ..., ProductName, SkuName, ChargeType, UnitPrice, Quantity, Subtotal, TaxTotal,
  Total, Currency, ..., MeterDescription, ...);
- the legacy license-based file (PartnerId, CustomerId, CustomerName, ..., OfferName, ChargeType,
  UnitPrice, Quantity, Amount, Subtotal, Tax, TotalForCustomer, Currency, DomainName, ...).

Columns are found by header name (case and surrounding blanks ignored), never by position: Microsoft
adds, renames and reorders columns (`ResellerMpnId` became `Tier2MpnId`), so unknown and trailing
columns are ignored and only the columns read below are required. Dates are M/D/YYYY (an optional
time after it is ignored), numbers use '.' and may be negative (credits); numbers are parsed as
Decimal only. Both kinds are mapped to one row shape, `ChargeRow`.

Row numbers are what a spreadsheet shows: the header is row 1, the first charge row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

NEW_COMMERCE = "new_commerce"
LEGACY = "legacy"

# Columns only one kind of file has; the header is of the kind it shares more of them with.
_NEW_COMMERCE_MARKERS = frozenset(
    c.lower()
    for c in (
        "CustomerDomainName", "ProductId", "SkuId", "AvailabilityId", "SkuName", "ProductName", "TaxTotal",
        "EffectiveUnitPrice", "PricingCurrency", "BillableQuantity", "MeterDescription", "TermAndBillingCycle",
    )
)  # fmt: skip
_LEGACY_MARKERS = frozenset(
    c.lower()
    for c in (
        "SyndicationPartnerSubscriptionNumber", "OfferId", "DurableOfferId", "OfferName", "TotalOtherDiscount",
        "TotalForCustomer", "BillingCycleType", "Tax",
    )
)  # fmt: skip


@dataclass(frozen=True)
class _Layout:
    """Which column of a kind of file holds each field of a ChargeRow. A tuple means "the first of
    these the file has"; at least one of them is required."""

    customer_id: str = "CustomerId"
    customer_name: str = "CustomerName"
    customer_domain: str | None = None  # optional
    subscription_id: str = "SubscriptionId"
    product: tuple[str, ...] = ()
    charge_type: str = "ChargeType"
    charge_start: str = "ChargeStartDate"
    charge_end: str = "ChargeEndDate"
    unit_price: str = "UnitPrice"
    quantity: str = "Quantity"
    subtotal: str = "Subtotal"
    tax: str = "TaxTotal"
    total: str = "Total"
    currency: str = "Currency"
    meter: str | None = None  # optional; a meter makes a line usage


LAYOUTS: dict[str, _Layout] = {
    NEW_COMMERCE: _Layout(
        customer_domain="CustomerDomainName", product=("ProductName", "SkuName"), meter="MeterDescription"
    ),
    LEGACY: _Layout(customer_domain="DomainName", product=("OfferName",), tax="Tax", total="TotalForCustomer"),
}

MONEY_PLACES = 2  # every currency the portal bills in has at most two (partner_portal.money)
FOUR_PLACES = Decimal("0.0001")
# Largest magnitudes the columns hold: money 16 digits with 2 places, unit price and quantity 18 with 4.
_MONEY_LIMIT = Decimal(10) ** 14
_FOUR_PLACES_LIMIT = Decimal(10) ** 14
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T].*)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
MAX_ERRORS = 1000  # a file that is wrong throughout is refused with the first errors, not a million


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


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


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
            listed.append({"row": None, "column": "", "message": f"… and {more:,} more errors not listed."})
        return listed

    @property
    def period(self) -> str:
        """The month most charge lines start in (the earliest of equally common ones), or ""."""
        if not self.months:
            return ""
        return min(self.months.items(), key=lambda item: (-item[1], item[0]))[0]


class FileRefused(Exception):
    """The file cannot be read at all (not UTF-8, no header, unknown kind, missing columns)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def _norm(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def detect_kind(header: Sequence[str]) -> str | None:
    """The kind of file this header belongs to, or None when it is neither."""
    names = {_norm(h) for h in header}
    if "customerid" not in names:
        return None
    new, legacy = len(names & _NEW_COMMERCE_MARKERS), len(names & _LEGACY_MARKERS)
    if new == legacy == 0:
        return None
    return NEW_COMMERCE if new >= legacy else LEGACY


@dataclass(frozen=True)
class _Columns:
    """Indexes of the columns a file has, resolved once from its header."""

    kind: str
    index: dict[str, int]  # field name -> column index
    names: dict[str, str]  # field name -> the column's name as the file spells it
    product: tuple[int, ...]
    product_name: str


def _resolve(header: Sequence[str]) -> _Columns:
    kind = detect_kind(header)
    if kind is None:
        raise FileRefused(
            [
                RowError(
                    1,
                    "",
                    "This is not a Partner Center reconciliation file: the header has neither the new-commerce "
                    "nor the legacy license-based columns.",
                )
            ]
        )
    positions: dict[str, int] = {}
    spelled: dict[str, str] = {}
    for i, name in enumerate(header):
        positions.setdefault(_norm(name), i)  # a repeated column: the first one counts
        spelled.setdefault(_norm(name), name.strip().lstrip("\ufeff"))
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
        raise FileRefused([RowError(1, column, f"The column {column} is missing.") for column in missing])
    product_name = next(spelled[c.lower()] for c in layout.product if c.lower() in positions)
    return _Columns(kind=kind, index=index, names=names, product=product, product_name=product_name)


def parse_date(text: str) -> dt.date | None:
    """M/D/YYYY as Partner Center writes it (11/3/2026, 11/03/2026), ISO 8601 too; "" is None."""
    text = text.strip()
    if not text:
        return None
    if match := _US_DATE.match(text):
        month, day, year = (int(x) for x in match.groups())
    elif match := _ISO_DATE.match(text):
        year, month, day = (int(x) for x in match.groups())
    else:
        raise ValueError(f"{text!r} is not a date (M/D/YYYY)")
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date (M/D/YYYY)") from exc


def parse_decimal(text: str) -> Decimal:
    """A number with '.' decimals and an optional sign, as Decimal. No float, no thousands separators."""
    text = text.strip()
    if not _NUMBER.match(text):
        raise ValueError(f"{text!r} is not a number" if text else "a number is required")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid literals
        raise ValueError(f"{text!r} is not a number") from exc


def _places(value: Decimal, places: Decimal, limit: Decimal, text: str) -> Decimal:
    # Compared before rounding: quantize() itself fails on numbers longer than Decimal's precision.
    if abs(value) >= limit or abs(value.quantize(places, rounding=ROUND_HALF_UP)) >= limit:
        raise ValueError(f"{text.strip()!r} is too large")
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _rows(text: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) of each record; the header is row 1. Multi-line quoted fields are one
    record, as in a spreadsheet."""
    return enumerate(csv.reader(iter(text)), start=1)


def read_charges(
    lines: Iterable[str], *, on_row: Callable[[int], None] | None = None
) -> tuple[str, Iterator[ChargeRow | RowError]]:
    """The kind of file and an iterator over its charge rows (or the errors of each bad row).

    Raises FileRefused at once when the file as a whole cannot be read (no header, unknown kind,
    missing columns), and from the iterator when it turns out not to be UTF-8. `on_row(n)` is called
    with the row number of every record read, for progress.
    """
    rows = _rows(lines)
    try:
        first = next(rows, None)
    except UnicodeDecodeError as exc:
        raise FileRefused([RowError(1, "", "The file is not UTF-8 text.")]) from exc
    except csv.Error as exc:
        raise FileRefused([RowError(1, "", f"The header cannot be read: {exc}.")]) from exc
    if first is None or not any(cell.strip() for cell in first[1]):
        raise FileRefused([RowError(1, "", "The file is empty: a header row is expected.")])
    columns = _resolve(first[1])
    return columns.kind, _charges(rows, columns, on_row)


def _charges(
    rows: Iterator[tuple[int, list[str]]], columns: _Columns, on_row: Callable[[int], None] | None
) -> Iterator[ChargeRow | RowError]:
    currency = ""  # the file's currency: that of its first row
    row_number = 1
    while True:
        try:
            item = next(rows, None)
        except UnicodeDecodeError as exc:
            raise FileRefused([RowError(row_number + 1, "", "The file is not UTF-8 text.")]) from exc
        except csv.Error as exc:
            yield RowError(row_number + 1, "", f"The row cannot be read: {exc}.")
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
            currency = given if _CURRENCY.match(given) else ""
        yield from result


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


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
        errors.append(RowError(row, names["customer_id"], "The Microsoft customer ID is missing."))
    else:
        try:
            customer_id = str(uuid.UUID(raw_customer))
        except ValueError:
            errors.append(
                RowError(row, names["customer_id"], f"{raw_customer!r} is not a Microsoft customer ID (a GUID).")
            )

    dates: dict[str, dt.date | None] = {}
    for attr in ("charge_start", "charge_end"):
        try:
            dates[attr] = parse_date(text(attr))
        except ValueError as exc:
            dates[attr] = None
            errors.append(RowError(row, names[attr], _sentence(exc)))

    numbers: dict[str, Decimal] = {}
    for attr, places, limit in (
        ("unit_price", FOUR_PLACES, _FOUR_PLACES_LIMIT),
        ("quantity", FOUR_PLACES, _FOUR_PLACES_LIMIT),
        ("subtotal", Decimal(1).scaleb(-MONEY_PLACES), _MONEY_LIMIT),
        ("tax", Decimal(1).scaleb(-MONEY_PLACES), _MONEY_LIMIT),
        ("total", Decimal(1).scaleb(-MONEY_PLACES), _MONEY_LIMIT),
    ):
        raw = text(attr)
        try:
            numbers[attr] = _places(parse_decimal(raw), places, limit, raw)
        except ValueError as exc:
            errors.append(RowError(row, names[attr], _sentence(exc)))

    currency = text("currency").upper()
    if not _CURRENCY.match(currency):
        errors.append(
            RowError(
                row,
                names["currency"],
                f"{currency!r} is not a currency code." if currency else "The currency is missing.",
            )
        )
    elif file_currency and currency != file_currency:
        errors.append(
            RowError(
                row, names["currency"], f"The currency {currency} differs from the file's currency {file_currency}."
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
        is_usage="usage" in charge_type.lower() or bool(text("meter")),
    )


def check_file(lines: Iterable[str], *, on_row: Callable[[int], None] | None = None) -> Summary:
    """Read the whole file once and check every row; keep no rows, only what an import needs.

    A file that cannot be read at all gives a summary with its one error (no rows).
    """
    summary = Summary()
    try:
        summary.kind, charges = read_charges(lines, on_row=on_row)
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
        for error in refused.errors:
            summary.add_error(error)
        return summary
    if summary.ok and summary.rows == 0:
        summary.add_error(RowError(1, "", "The file has a header but no charge rows."))
    return summary


def file_kind(lines: Iterable[str]) -> str:
    """The kind of file, read from its header only ("" when it is neither)."""
    for _, header in _rows(lines):
        return detect_kind(header) or ""
    return ""
