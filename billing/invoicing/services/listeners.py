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

from partner_portal.models import Customer

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


def customer_balances_lock(*, customer_id: int) -> None:
    """Lock the customer's row to the end of the transaction, after the rows the write locks itself
    (its invoices; the payment comes after it): writes that change what one customer owes queue behind
    one another, so the credit an issue applies and the collections summary a write rewrites from all
    of the customer's open invoices include what the write before it did.

    FOR NO KEY UPDATE, not FOR UPDATE: a transaction that inserted a row referring to the customer (a
    draft, a ticket, an audit event) takes a key-share lock on it when its foreign keys are checked at
    commit, which FOR UPDATE would make wait, and two such writes could deadlock."""
    list(Customer.objects.select_for_update(no_key=True).filter(pk=customer_id).values_list("pk", flat=True))


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
