"""Reads of billing for pages and the API, always through a Scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import CharField, Count, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Cast

from billing.invoicing.models import (
    ZERO,
    CreditNote,
    ExportJob,
    Invoice,
    InvoiceLine,
    InvoiceQuerySet,
    Payment,
    PaymentAllocation,
    Refund,
)
from partner_portal import clock
from partner_portal import selectors as core_selectors
from partner_portal.models import AuditEvent, Customer
from partner_portal.search import search_with_customer
from partner_portal.tenancy import Scope, get_scoped_or_404

# Sort keys the invoice list offers: name -> (model field, descending).
INVOICE_SORTS: dict[str, tuple[str, bool]] = {
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "-total": ("total", True),
    "total": ("total", False),
    "-balance": ("balance", True),
    "balance": ("balance", False),
}
# The payment list pages newest first by the day the money arrived.
PAYMENT_SORT: tuple[str, bool] = ("received_on", True)


OPEN = "open"  # the status filter's "issued or partly paid"
# Sorts that compare amounts: never across currencies (the list then keeps to one currency).
MONEY_SORTS = frozenset({"-total", "total", "-balance", "balance"})


# A billing month, "YYYY-MM", of a year a date can hold (year 0 cannot).
PERIOD_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class InvoiceFilters:
    search: str = ""  # number, customer name or domain
    status: str = ""
    customer_id: int | None = None
    period: str = ""  # "YYYY-MM": invoices issued in that month (drafts: generated for it)
    overdue: bool = False
    currency: str = ""
    age: str = ""  # an aging bucket (AGING_BUCKETS): open invoices that many days past due


def invoice_list(*, scope: Scope, filters: InvoiceFilters | None = None) -> QuerySet[Invoice]:
    """Invoices the scope may see. Customer users never see drafts."""
    qs = Invoice.objects.for_scope(scope).select_related("customer")
    if not scope.is_staff:
        qs = qs.exclude(status=Invoice.Status.DRAFT)
    f = filters or InvoiceFilters()
    if f.search:
        term = f.search.strip()
        qs = search_with_customer(qs, scope=scope, own=Q(number__icontains=term), term=term)
    if f.status == OPEN:
        qs = qs.open()
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.currency:
        qs = qs.filter(currency=f.currency)
    if f.age:
        qs = qs.aged(f.age, clock.today(scope.partner.time_zone))
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    if f.period:
        year, month = (int(x) for x in f.period.split("-"))
        qs = qs.filter(Q(issue_date__year=year, issue_date__month=month) | Q(issue_date__isnull=True, period=f.period))
    if f.overdue:
        qs = qs.overdue(clock.today(scope.partner.time_zone))
    return qs


def invoice_export_list(
    *, scope: Scope, filters: InvoiceFilters | None = None, include_drafts: bool = False
) -> QuerySet[Invoice]:
    """The invoices a bulk PDF export takes: those of the filters, drafts only when asked for
    (`include_drafts`, or a status filter that picks drafts)."""
    qs = invoice_list(scope=scope, filters=filters)
    if include_drafts or (filters is not None and filters.status == Invoice.Status.DRAFT):
        return qs
    return qs.exclude(status=Invoice.Status.DRAFT)


@dataclass(frozen=True)
class InvoiceReadiness:
    """What an e-invoice of this invoice still needs: the partner's and customer's fields, and the
    positions of its lines at 0 % without a VAT category (those alone stop it being issued)."""

    gaps: core_selectors.EinvoiceGaps
    lines_without_category: list[int]

    @property
    def ready(self) -> bool:
        return self.gaps.ready and not self.lines_without_category


def invoice_einvoice_readiness(*, scope: Scope, invoice: Invoice) -> InvoiceReadiness:
    """Readiness of one invoice (the issue page's notice): the customer's VAT identifier counts when a
    line is reverse charged (AE). Reads the invoice's lines as given (prefetched by invoice_get)."""
    lines = list(invoice.lines.all())
    gaps = core_selectors.einvoice_gaps(
        scope=scope, customer=invoice.customer, reverse_charge=any(line.vat_category == "AE" for line in lines)
    )
    missing = [n for n, line in enumerate(lines, start=1) if not line.vat_category and line.tax_rate == 0]
    return InvoiceReadiness(gaps=gaps, lines_without_category=missing)


def invoice_get(*, scope: Scope, pk: int | str) -> Invoice:
    qs = Invoice.objects.select_related("customer", "partner").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk"))
    )
    if not scope.is_staff:
        qs = qs.exclude(status=Invoice.Status.DRAFT)
    return get_scoped_or_404(qs, scope, pk=pk)


def invoice_allocations(*, invoice: Invoice) -> QuerySet[PaymentAllocation]:
    """The payments that pay the invoice now (reversed allocations are in its history only)."""
    return invoice.allocations.active().select_related("payment").order_by("created_at", "pk")


def invoices_open(*, scope: Scope, customer_id: int | None = None) -> QuerySet[Invoice]:
    """Issued and partly paid invoices, oldest due first: what a payment can be allocated to."""
    qs = Invoice.objects.for_scope(scope).open().select_related("customer").order_by("due_date", "issue_date", "pk")
    return qs.filter(customer_id=customer_id) if customer_id else qs


def invoice_history(*, scope: Scope, invoice: Invoice) -> QuerySet[AuditEvent]:
    """What happened to the invoice, oldest first: its own events and those of the payments allocated
    to it and the credit notes against it (staff only: customers get an empty list)."""
    as_text: CharField[str, str] = CharField(max_length=32)  # AuditEvent.target_id is text: compare like with like
    payment_ids = (
        PaymentAllocation.objects.filter(invoice_id=invoice.pk).annotate(t=Cast("payment_id", as_text)).values("t")
    )
    credit_note_ids = CreditNote.objects.filter(invoice_id=invoice.pk).annotate(t=Cast("pk", as_text)).values("t")
    return (
        AuditEvent.objects.for_scope(scope)
        .filter(
            Q(target_type="billing.invoice", target_id=str(invoice.pk))
            | Q(target_type="billing.payment", target_id__in=payment_ids)
            | Q(target_type="billing.creditnote", target_id__in=credit_note_ids)
        )
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def payment_list(*, scope: Scope, customer_id: int | None = None) -> QuerySet[Payment]:
    qs = (
        Payment.objects.for_scope(scope)
        .select_related("customer")
        .prefetch_related(
            Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("invoice")), "refunds"
        )
    )
    return qs.filter(customer_id=customer_id) if customer_id else qs


def payment_get(*, scope: Scope, pk: int | str) -> Payment:
    return get_scoped_or_404(payment_list(scope=scope), scope, pk=pk)


def refund_list(*, scope: Scope, payment_id: int | None = None) -> QuerySet[Refund]:
    qs = Refund.objects.for_scope(scope).select_related("customer", "payment", "recorded_by")
    return qs.filter(payment_id=payment_id) if payment_id else qs


def payment_allocations(*, payment: Payment) -> QuerySet[PaymentAllocation]:
    """Every allocation of the payment, the reversed ones too (they are its history), in order."""
    return payment.allocations.select_related("invoice").order_by("created_at", "pk")


def payment_history(*, scope: Scope, payment: Payment) -> QuerySet[AuditEvent]:
    """What happened to the payment, oldest first: recorded, credit used, voided, refunded."""
    return (
        AuditEvent.objects.for_scope(scope)
        .filter(target_type="billing.payment", target_id=str(payment.pk))
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def credit_note_list(
    *, scope: Scope, customer_id: int | None = None, invoice_id: int | None = None
) -> QuerySet[CreditNote]:
    qs = CreditNote.objects.for_scope(scope).select_related("customer", "invoice")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.filter(invoice_id=invoice_id) if invoice_id else qs


def credit_note_get(*, scope: Scope, pk: int | str) -> CreditNote:
    return get_scoped_or_404(credit_note_list(scope=scope), scope, pk=pk)


@dataclass(frozen=True)
class CreditedLine:
    """One invoice line a credit note by lines credits, with the quantity and the figures it took."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net: Decimal
    tax: Decimal


def credit_note_lines(*, credit_note: CreditNote) -> list[CreditedLine]:
    """The lines a credit note (already scoped) credits, in the invoice's order; empty for a note by
    amount. The figures are the note's own, kept when it was issued."""
    entries = {int(entry["line"]): entry for entry in credit_note.credited_lines}
    if not entries:
        return []
    lines = InvoiceLine.objects.filter(invoice_id=credit_note.invoice_id, pk__in=entries).order_by("position", "pk")
    return [
        CreditedLine(
            description=line.description,
            quantity=Decimal(entries[line.pk]["quantity"]),
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
            net=Decimal(entries[line.pk]["net"]),
            tax=Decimal(entries[line.pk]["tax"]),
        )
        for line in lines
    ]


@dataclass(frozen=True)
class CustomerAccount:
    """Where a customer stands: what it owes, what is overdue, what credit it has."""

    balance: Decimal
    overdue: Decimal
    credit: Decimal
    open_invoices: int
    oldest_due: dt.date | None


def customer_account(*, scope: Scope, customer: Customer) -> CustomerAccount:
    """Two aggregate queries. (The sums are named apart from the `balance` column: an aggregate
    named after a field it sums hides that field from the aggregates after it.)"""
    today = clock.today(scope.partner.time_zone)
    open_qs = Invoice.objects.for_scope(scope).filter(customer=customer).open()
    sums = open_qs.aggregate(
        open_balance=Sum("balance"),
        overdue_balance=Sum("balance", filter=InvoiceQuerySet.overdue_condition(today)),
        open_count=Count("pk"),
        oldest_due=Min("due_date"),
    )
    credit = Payment.objects.for_scope(scope).filter(customer=customer).aggregate(c=Sum("unallocated"))["c"]
    return CustomerAccount(
        balance=sums["open_balance"] or ZERO,
        overdue=sums["overdue_balance"] or ZERO,
        credit=credit or ZERO,
        open_invoices=sums["open_count"],
        oldest_due=sums["oldest_due"],
    )


# ---- Finance dashboard: receivables by age, collections, what is due to Microsoft -------------------


# ---- Bulk exports -----------------------------------------------------------------------------------


def export_job_list(*, scope: Scope) -> QuerySet[ExportJob]:
    """The partner's export jobs, newest first. Customer users see none."""
    if not scope.is_staff:
        return ExportJob.objects.none()
    return ExportJob.objects.for_scope(scope).select_related("requested_by").order_by("-created_at", "-pk")


def export_job_get(*, scope: Scope, pk: int | str) -> ExportJob:
    return get_scoped_or_404(export_job_list(scope=scope), scope, pk=pk)


# ---- Reconciliation pages ---------------------------------------------------------------------------
