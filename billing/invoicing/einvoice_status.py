"""A document's Peppol submission as staff see it on the invoice and credit note pages. Peppol sending
lives in billing.peppol, which registers its read here (the parts' layers let invoicing import nothing
of it); without one the pages show nothing of Peppol."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from partner_portal.tenancy import Scope

# (scope, kind "invoice" | "credit_note", document id) -> the submission or None
Reader = Callable[[Scope, str, int], Any]

_readers: list[Reader] = []


def einvoice_status_reader_register(reader: Reader) -> None:
    _readers[:] = [reader]


def document_submission(*, scope: Scope, kind: str, document_id: int) -> Any:
    return _readers[0](scope, kind, document_id) if _readers else None
