"""Billing's API viewsets, from its parts, for the project's router (partner_portal/urls.py loops over ROUTES).

Each entry is (URL prefix, viewset, basename); prefixes and basenames are the API's public names.
"""

from __future__ import annotations

from typing import Any

from billing.collections.api import CollectionRunViewSet, NoticeViewSet
from billing.invoicing.api import InvoiceViewSet
from billing.invoicing.exports_api import InvoiceExportViewSet
from billing.invoicing.payments_api import CreditNoteViewSet, PaymentViewSet
from billing.reconciliation.api import ReconciliationImportViewSet

ROUTES: list[tuple[str, Any, str]] = [
    ("invoices", InvoiceViewSet, "invoice"),
    ("payments", PaymentViewSet, "payment"),
    ("credit-notes", CreditNoteViewSet, "credit-note"),
    ("invoice-exports", InvoiceExportViewSet, "invoice-export"),
    ("reconciliation-imports", ReconciliationImportViewSet, "reconciliation-import"),
    ("notices", NoticeViewSet, "notice"),
    ("collection-runs", CollectionRunViewSet, "collection-run"),
]
