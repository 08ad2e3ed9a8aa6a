"""Money, quantities and rates for billing documents, in the active language's number format.

`{% load money %}` then `{{ invoice.total|money:invoice.currency }}` gives "1,234.50 USD" in
English and "1 234,50 RUB" in Russian (a non-breaking space groups the thousands and joins the
code, so an amount never wraps). Decimal in, string out: nothing passes through float.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format

from partner_portal.money import exponent, quantize

register = template.Library()

NBSP = "\u00a0"
MAX_PLACES = 4  # quantities and unit prices are stored with four places


def _grouped(value: Decimal, places: int) -> str:
    """`value`, already rounded to `places`, with the active language's separators and grouping."""
    return str(number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True))


def _rounded(value: Decimal, places: int) -> str:
    return _grouped(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), places)


def _places(value: Decimal, minimum: int) -> int:
    """Decimal places that show `value` exactly: at least `minimum`, at most MAX_PLACES."""
    exp = value.normalize().as_tuple().exponent
    needed = -exp if isinstance(exp, int) and exp < 0 else 0
    return min(max(needed, minimum), MAX_PLACES)


@register.filter
def money_amount(value: Decimal | None, currency: str) -> str:
    """The amount alone, rounded half-up to the currency's minor unit: "1,234.50"; "" for None."""
    if value is None:
        return ""
    return _grouped(quantize(value, currency), exponent(currency))


@register.filter
def money(value: Decimal | None, currency: str) -> str:
    """The amount with its ISO currency code: "1,234.50 USD"; "" for None."""
    if value is None:
        return ""
    return f"{money_amount(value, currency)}{NBSP}{currency.upper()}"


@register.filter
def unit_price(value: Decimal | None, currency: str) -> str:
    """A unit price: the currency's places, more only where the price has them ("0.125")."""
    if value is None:
        return ""
    places = _places(value, exponent(currency))
    return _rounded(value, places)


@register.filter
def quantity(value: Decimal | None) -> str:
    """A quantity without trailing zeros: "10", "2.5", "1,500"."""
    if value is None:
        return ""
    places = _places(value, 0)
    return _rounded(value, places)


@register.filter
def percent(value: Decimal | None) -> str:
    """A rate in percent without trailing zeros: "20", "17.5" (the sign goes in the heading)."""
    return quantity(value)
