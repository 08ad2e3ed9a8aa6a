"""The values of a reconciliation file's cells, and the errors reading them gives: pure, no database.

Dates are M/D/YYYY as Partner Center writes them (an optional time after it is ignored) or ISO 8601;
numbers use '.' and may be negative (credits) or in scientific notation (`1.2E-05`), and are read as
Decimal only, never through a float.

An error keeps its English sentence with %-placeholders and their values apart (`message`,
`params`), so a page or the API shows it in the reader's language, not in the uploader's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext, gettext_noop

MONEY_PLACES = 2  # every currency the portal bills in has at most two (partner_portal.money)
MONEY = Decimal(1).scaleb(-MONEY_PLACES)
FOUR_PLACES = Decimal("0.0001")
# Largest magnitudes the columns hold: money 16 digits with 2 places, unit price and quantity 18 with 4.
MONEY_LIMIT = Decimal(10) ** 14
FOUR_PLACES_LIMIT = Decimal(10) ** 14
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T].*)?$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T].*)?$")  # D.M.YYYY, as Excel in ru/de saves it
_DECIMAL_COMMA = re.compile(r"^([+-]?\d*),(\d+(?:[eE][+-]?\d{1,4})?)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")


@dataclass(frozen=True, slots=True)
class RowError:
    """One error of a file: row 1 is the header. `message` is the English sentence with
    %(name)s placeholders, `params` their values; `text` the sentence in English."""

    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.message % self.params if self.params else self.message

    def as_dict(self) -> dict[str, Any]:
        """As stored with an import: the sentence in English, and its msgid and params to translate it."""
        return {"row": self.row, "column": self.column, "message": self.text, "msgid": self.message,
                "params": self.params}  # fmt: skip


def shown(error: dict[str, Any]) -> dict[str, Any]:
    """A stored error as the reader sees it: its sentence in the active language (errors stored
    before sentences were kept apart from their parameters show as they were stored)."""
    msgid = error.get("msgid")
    if not msgid:
        return error
    params = error.get("params") or {}
    try:
        message = gettext(msgid) % params if params else gettext(msgid)
    except (KeyError, TypeError, ValueError):  # a translation that does not fit its parameters
        message = error.get("message", msgid)
    return {**error, "message": message}


class FileRefused(Exception):
    """The file cannot be read at all (not text nor a workbook, no header, a kind not imported, missing columns)."""

    def __init__(self, errors: list[RowError], *, kind: str = "") -> None:
        super().__init__("; ".join(e.text for e in errors))
        self.errors, self.kind = errors, kind


class ValueRefused(ValueError):
    """A cell that is not what its column holds: an English sentence and its parameters."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


def parse_date(text: str) -> dt.date | None:
    """M/D/YYYY as Partner Center writes it (11/3/2026, 11/03/2026), ISO 8601 and D.M.YYYY (as Excel
    in a Russian or German locale saves it) too; "" is None."""
    text = text.strip()
    if not text:
        return None
    if match := _US_DATE.match(text):
        month, day, year = (int(x) for x in match.groups())
    elif match := _ISO_DATE.match(text):
        year, month, day = (int(x) for x in match.groups())
    elif match := _DOTTED_DATE.match(text):
        day, month, year = (int(x) for x in match.groups())
    else:
        raise ValueRefused(gettext_noop("%(value)s is not a date (M/D/YYYY)."), value=repr(text))
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueRefused("%(value)s is not a date (M/D/YYYY).", value=repr(text)) from exc


def parse_decimal(text: str, *, decimal_comma: bool = False) -> Decimal:
    """A number with '.' decimals, an optional sign and an optional exponent (1.2E-05), as an exact
    Decimal. No float, no thousands separators. With `decimal_comma` (a file saved by Excel where the
    comma is the decimal separator, never comma-separated) "36,00" is 36.00 too."""
    text = text.strip()
    if decimal_comma and (match := _DECIMAL_COMMA.match(text)):
        text = f"{match.group(1) or '0'}.{match.group(2)}"
    if not _NUMBER.match(text):
        if not text:
            raise ValueRefused(gettext_noop("A number is required."))
        raise ValueRefused(gettext_noop("%(value)s is not a number."), value=repr(text))
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid literals
        raise ValueRefused("%(value)s is not a number.", value=repr(text)) from exc


def to_places(value: Decimal, places: Decimal, limit: Decimal, text: str) -> Decimal:
    """`value` rounded half-up to `places`; refused when it is `limit` or more."""
    # Compared before rounding: quantize() itself fails on numbers longer than Decimal's precision.
    if abs(value) >= limit or abs(value.quantize(places, rounding=ROUND_HALF_UP)) >= limit:
        raise ValueRefused(gettext_noop("%(value)s is too large."), value=repr(text.strip()))
    return value.quantize(places, rounding=ROUND_HALF_UP)
