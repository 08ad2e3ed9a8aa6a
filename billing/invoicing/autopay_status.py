"""Autopay as staff see it on the invoice's page and the customer's billing page: whether the customer
has it on, and the latest charges. Autopay lives in billing.payments_online, which registers its reads
here (the parts' layers let invoicing and finance import nothing of it). Without a registered reader
(online payments not installed) the pages show nothing of autopay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from partner_portal.tenancy import Scope


@dataclass(frozen=True)
class AutopayReaders:
    # (scope, customer id) -> {"card": the saved card or None, "last_attempt": the latest attempt or None}
    customer: Callable[[Scope, int], dict[str, Any]]
    # (scope, invoice id) -> the invoice's attempts, newest first
    invoice: Callable[[Scope, int], list[Any]]


_readers: list[AutopayReaders] = []


def autopay_readers_register(readers: AutopayReaders) -> None:
    _readers[:] = [readers]


def customer_autopay(*, scope: Scope, customer_id: int) -> dict[str, Any] | None:
    return _readers[0].customer(scope, customer_id) if _readers else None


def invoice_autopay_attempts(*, scope: Scope, invoice_id: int) -> list[Any]:
    return _readers[0].invoice(scope, invoice_id) if _readers else []
