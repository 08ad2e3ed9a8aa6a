"""Money helpers: Decimal only, rounded explicitly half-up to the currency's exponent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models

# ISO 4217 minor units of the currencies the portal bills in; the default is 2. Money columns hold
# two places (MoneyField), so only currencies with at most two are offered.
CURRENCY_EXPONENTS: dict[str, int] = {"JPY": 0, "KRW": 0}
CURRENCY_CHOICES = [
    ("USD", "USD"),
    ("EUR", "EUR"),
    ("GBP", "GBP"),
    ("RUB", "RUB"),
    ("CAD", "CAD"),
    ("AUD", "AUD"),
    ("CHF", "CHF"),
    ("JPY", "JPY"),
]


def exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS.get(currency.upper(), 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit. Refuses floats so none slips into money."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, got {type(amount).__name__}")
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


MONEY_LIMIT = Decimal(10) ** 14  # every amount is below this: MoneyField's 16 digits, 2 of them after the point


class MoneyField(models.DecimalField):  # type: ignore[type-arg]  # generic only in the stubs
    """An amount of money: 16 digits with 2 places (the exponent of every currency but a few)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)
