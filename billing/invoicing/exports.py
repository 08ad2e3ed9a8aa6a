"""CSV exports for accounting. Rows stream from the database in chunks, so a year of invoices
does not sit in memory; cells are written by the core's `csvexport` (formulas neutralised)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from billing.invoicing.models import Invoice, Payment
from partner_portal.csvexport import csv_lines

INVOICE_COLUMNS = [
    "number", "status", "customer", "customer_tenant_id", "currency", "issue_date", "due_date", "period",
    "subtotal", "tax_total", "total", "amount_paid", "amount_credited", "balance",
]  # fmt: skip
PAYMENT_COLUMNS = [
    "id",
    "status",
    "received_on",
    "customer",
    "customer_tenant_id",
    "currency",
    "amount",
    "method",
    "provider",
    "reference",
    "allocated_to",
    "unallocated",
]


def invoices_csv(invoices: QuerySet[Invoice]) -> Iterator[str]:
    def rows() -> Iterator[list[Any]]:
        for i in invoices.select_related("customer").order_by("issue_date", "number", "pk").iterator(chunk_size=2000):
            yield [
                i.number, i.status, i.customer.name, i.customer.tenant_id, i.currency, i.issue_date or "", i.due_date or "",
                i.period, i.subtotal, i.tax_total, i.total, i.amount_paid, i.amount_credited, i.balance,
            ]  # fmt: skip

    return csv_lines(INVOICE_COLUMNS, rows())


def payments_csv(payments: QuerySet[Payment]) -> Iterator[str]:
    def rows() -> Iterator[list[Any]]:
        # prefetch_related works with iterator() when a chunk size is given (Django 4.1+).
        qs = payments.select_related("customer").prefetch_related("allocations__invoice").order_by("received_on", "pk")
        for p in qs.iterator(chunk_size=2000):
            # A voided payment is marked and pays nothing: its reversed allocations are not listed.
            allocated = "; ".join(f"{a.invoice.number}={a.amount}" for a in p.allocations.all() if not a.is_reversed)
            yield [
                p.pk,
                "voided" if p.is_voided else "received",
                p.received_on,
                p.customer.name,
                p.customer.tenant_id,
                p.currency,
                p.amount,
                p.method,
                p.provider,
                p.reference,
                allocated,
                p.unallocated,
            ]

    return csv_lines(PAYMENT_COLUMNS, rows())
