"""Who is told when a customer's open balances change.

Parts above invoicing keep figures derived from a customer's open invoices (collections keeps the day
its run next has something to do for the customer). Invoicing does not import them (the layers
contract): they register here, in billing.apps.BillingConfig.ready(), and every write that changes
what a customer owes (an invoice issued or voided, a payment allocated or reversed, a credit note)
calls `customer_balances_changed` inside its transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from billing.invoicing.models import CreditNote, Invoice


class BalancesListener(Protocol):
    def __call__(self, *, customer_ids: Collection[int]) -> None: ...


_listeners: list[BalancesListener] = []


def customer_balances_listener_register(listener: BalancesListener) -> None:
    """Have `listener(customer_ids=...)` run inside every transaction that changes a customer's open
    balances. Registering the same listener twice keeps one."""
    if listener not in _listeners:
        _listeners.append(listener)


def customer_balances_changed(*, customer_ids: Collection[int]) -> None:
    """Tell every registered listener that these customers' open invoices changed."""
    ids = sorted({pk for pk in customer_ids if pk is not None})
    if not ids:
        return
    for listener in _listeners:
        listener(customer_ids=ids)


class DocumentIssuedListener(Protocol):
    def __call__(self, *, kind: str, document: Invoice | CreditNote) -> None: ...


_issued_listeners: list[DocumentIssuedListener] = []


def document_issued_listener_register(listener: DocumentIssuedListener) -> None:
    """Have `listener(kind="invoice" | "credit_note", document=...)` run inside the transaction that
    issues an invoice or a credit note (Peppol sending queues the document there). Registering the same
    listener twice keeps one."""
    if listener not in _issued_listeners:
        _issued_listeners.append(listener)


def document_issued(*, kind: str, document: Invoice | CreditNote) -> None:
    """Tell every registered listener that this document was just issued (its customer loaded)."""
    for listener in _issued_listeners:
        listener(kind=kind, document=document)
