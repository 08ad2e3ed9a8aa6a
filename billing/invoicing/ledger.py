"""Proof that the ledger adds up: every stored figure of invoices, payments and customer credit
compared with the rows it comes from (`manage.py check_ledger`, docs/operations.md).

Each check is one set-based query: the sources are summed per document with GROUP BY and joined to
the documents, so only the rows that differ come back, whatever the number of invoices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from billing.invoicing.models import CreditNote, Invoice, InvoiceLine, Payment, PaymentAllocation, Refund
from partner_portal.models import Customer, Partner


@dataclass(frozen=True)
class Difference:
    partner: str  # the partner's slug
    document: str  # "invoice INV-2026-0001", "payment 42 (BACS 7781)", "customer Contoso (USD)"
    figure: str  # which stored figure: "total", "balance", "credit", ...
    expected: Decimal  # what the sources add up to
    found: Decimal  # what is stored

    def __str__(self) -> str:
        return f"{self.partner}: {self.document}: {self.figure} expected {self.expected}, found {self.found}"


def _tables() -> dict[str, str]:
    return {
        "partner": Partner._meta.db_table,
        "customer": Customer._meta.db_table,
        "invoice": Invoice._meta.db_table,
        "line": InvoiceLine._meta.db_table,
        "payment": Payment._meta.db_table,
        "allocation": PaymentAllocation._meta.db_table,
        "credit_note": CreditNote._meta.db_table,
        "refund": Refund._meta.db_table,
    }


# A voided payment counts as nothing received; a reversed allocation pays nothing.
# Each query returns (partner slug, document, figure, expected, found) for the rows that differ.
# `{in_x}` narrows the rows of alias x to one partner (or is TRUE for every partner), in the sums too,
# so a check of one partner reads only that partner's rows.
_INVOICE_TOTALS = """
WITH sums AS (
    SELECT l.invoice_id, SUM(l.amount) AS subtotal, SUM(l.tax_amount) AS tax
    FROM {line} l WHERE {in_l} GROUP BY l.invoice_id
), checked AS (
    SELECT p.slug, i.id, i.number, i.subtotal, i.tax_total, i.total,
           COALESCE(s.subtotal, 0) AS lines_subtotal, COALESCE(s.tax, 0) AS lines_tax
    FROM {invoice} i JOIN {partner} p ON p.id = i.partner_id LEFT JOIN sums s ON s.invoice_id = i.id
    WHERE {in_i}
)
SELECT slug, id, number, 'subtotal', lines_subtotal, subtotal FROM checked WHERE subtotal <> lines_subtotal
UNION ALL
SELECT slug, id, number, 'tax', lines_tax, tax_total FROM checked WHERE tax_total <> lines_tax
UNION ALL
SELECT slug, id, number, 'total', lines_subtotal + lines_tax, total FROM checked
    WHERE total <> lines_subtotal + lines_tax
"""

_INVOICE_SETTLEMENTS = """
WITH paid AS (
    SELECT a.invoice_id, SUM(a.amount) AS amount FROM {allocation} a
    WHERE a.reversed_at IS NULL AND {in_a} GROUP BY a.invoice_id
), credited AS (
    SELECT c.invoice_id, SUM(c.amount) AS amount FROM {credit_note} c WHERE {in_c} GROUP BY c.invoice_id
), checked AS (
    SELECT p.slug, i.id, i.number, i.status, i.total, i.amount_paid, i.amount_credited, i.balance,
           COALESCE(paid.amount, 0) AS allocated, COALESCE(credited.amount, 0) AS credited
    FROM {invoice} i JOIN {partner} p ON p.id = i.partner_id
    LEFT JOIN paid ON paid.invoice_id = i.id LEFT JOIN credited ON credited.invoice_id = i.id
    WHERE {in_i}
)
SELECT slug, id, number, 'amount paid', allocated, amount_paid FROM checked WHERE amount_paid <> allocated
UNION ALL
SELECT slug, id, number, 'amount credited', credited, amount_credited FROM checked WHERE amount_credited <> credited
UNION ALL
SELECT slug, id, number, 'balance',
       CASE WHEN status = 'void' THEN 0 ELSE total - allocated - credited END, balance
FROM checked WHERE balance <> CASE WHEN status = 'void' THEN 0 ELSE total - allocated - credited END
"""

_PAYMENTS = """
WITH allocated AS (
    SELECT a.payment_id, SUM(a.amount) AS amount FROM {allocation} a
    WHERE a.reversed_at IS NULL AND {in_a} GROUP BY a.payment_id
), refunded AS (
    SELECT r.payment_id, SUM(r.amount) AS amount FROM {refund} r WHERE {in_r} GROUP BY r.payment_id
), checked AS (
    SELECT p.slug, pay.id, pay.reference, pay.unallocated,
           CASE WHEN pay.voided_at IS NULL THEN pay.amount ELSE 0 END AS amount,
           COALESCE(allocated.amount, 0) AS allocated, COALESCE(refunded.amount, 0) AS refunded
    FROM {payment} pay JOIN {partner} p ON p.id = pay.partner_id
    LEFT JOIN allocated ON allocated.payment_id = pay.id LEFT JOIN refunded ON refunded.payment_id = pay.id
    WHERE {in_pay}
)
SELECT slug, id, reference, 'allocated, unallocated and refunded', amount, allocated + unallocated + refunded
FROM checked WHERE amount <> allocated + unallocated + refunded
"""

_CUSTOMER_CREDIT = """
WITH received AS (
    SELECT pay.customer_id, pay.currency, SUM(CASE WHEN pay.voided_at IS NULL THEN pay.amount ELSE 0 END) AS amount,
           SUM(pay.unallocated) AS credit
    FROM {payment} pay WHERE {in_pay} GROUP BY pay.customer_id, pay.currency
), allocated AS (
    SELECT pay.customer_id, pay.currency, SUM(a.amount) AS amount
    FROM {allocation} a JOIN {payment} pay ON pay.id = a.payment_id
    WHERE a.reversed_at IS NULL AND {in_a} GROUP BY pay.customer_id, pay.currency
), refunded AS (
    SELECT r.customer_id, r.currency, SUM(r.amount) AS amount FROM {refund} r WHERE {in_r}
    GROUP BY r.customer_id, r.currency
), checked AS (
    SELECT p.slug, c.id, c.name || ' (' || rc.currency || ')' AS label, rc.credit,
           rc.amount - COALESCE(allocated.amount, 0) - COALESCE(refunded.amount, 0) AS expected
    FROM received rc JOIN {customer} c ON c.id = rc.customer_id JOIN {partner} p ON p.id = c.partner_id
    LEFT JOIN allocated ON allocated.customer_id = rc.customer_id AND allocated.currency = rc.currency
    LEFT JOIN refunded ON refunded.customer_id = rc.customer_id AND refunded.currency = rc.currency
)
SELECT slug, id, label, 'credit', expected, credit FROM checked WHERE credit <> expected
"""

_ALIASES = ("l", "i", "a", "c", "r", "pay")


def _rows(sql: str, kind: str, partner: Partner | None) -> Iterator[Difference]:
    if partner is None:
        narrow = {f"in_{alias}": "TRUE" for alias in _ALIASES}
    else:
        narrow = {f"in_{alias}": f"{alias}.partner_id = %(partner)s" for alias in _ALIASES}
    text = sql.format(**_tables(), **narrow)
    with connection.cursor() as cursor:
        cursor.execute(text, {"partner": partner.pk if partner is not None else None})
        for slug, pk, label, figure, expected, found in cursor.fetchall():
            yield Difference(
                partner=slug,
                document=_document(kind, pk, label),
                figure=figure,
                expected=Decimal(expected).quantize(Decimal("0.01")),
                found=Decimal(found).quantize(Decimal("0.01")),
            )


def _document(kind: str, pk: int, label: str) -> str:
    if kind == "invoice":
        return f"invoice {label}" if label else f"invoice draft #{pk}"
    if kind == "payment":
        return f"payment #{pk}" + (f" ({label})" if label else "")
    return f"customer #{pk} {label}"


def ledger_differences(*, partner: Partner | None = None) -> list[Difference]:
    """Every stored figure that does not match its sources, for one partner or all of them:
    invoice subtotal, tax and total against the lines; amount paid, amount credited and balance against
    the allocations and credit notes; each payment against its allocations and what is left of it;
    each customer's credit (per currency) against its payments."""
    return [
        *_rows(_INVOICE_TOTALS, "invoice", partner),
        *_rows(_INVOICE_SETTLEMENTS, "invoice", partner),
        *_rows(_PAYMENTS, "payment", partner),
        *_rows(_CUSTOMER_CREDIT, "customer", partner),
    ]


def ledger_counts(*, partner: Partner | None = None) -> dict[str, int]:
    """How many documents the check covered, for its summary line."""
    invoices, payments = Invoice.objects.all(), Payment.objects.all()
    if partner is not None:
        invoices, payments = invoices.filter(partner=partner), payments.filter(partner=partner)
    return {"invoices": invoices.count(), "payments": payments.count()}
