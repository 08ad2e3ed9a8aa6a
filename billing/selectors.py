"""Reads of billing for pages and the API, always through a Scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet, Sum

from billing.models import ZERO, CreditNote, Invoice, InvoiceLine, Payment, PaymentAllocation
from partner_portal import clock
from partner_portal.models import AuditEvent, Customer
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


@dataclass(frozen=True)
class InvoiceFilters:
    search: str = ""  # number, customer name or domain
    status: str = ""
    customer_id: int | None = None
    period: str = ""  # "YYYY-MM": invoices issued in that month (drafts: generated for it)
    overdue: bool = False


def invoice_list(*, scope: Scope, filters: InvoiceFilters | None = None) -> QuerySet[Invoice]:
    """Invoices the scope may see. Customer users never see drafts."""
    qs = Invoice.objects.for_scope(scope).select_related("customer")
    if not scope.is_staff:
        qs = qs.exclude(status=Invoice.Status.DRAFT)
    f = filters or InvoiceFilters()
    if f.search:
        term = f.search.strip()
        qs = qs.filter(
            Q(number__icontains=term) | Q(customer__name__icontains=term) | Q(customer__domain__icontains=term)
        )
    if f.status:
        qs = qs.filter(status=f.status)
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    if f.period:
        year, month = (int(x) for x in f.period.split("-"))
        qs = qs.filter(Q(issue_date__year=year, issue_date__month=month) | Q(issue_date__isnull=True, period=f.period))
    if f.overdue:
        qs = qs.open().filter(due_date__lt=clock.today(scope.partner.time_zone))
    return qs


def invoice_get(*, scope: Scope, pk: int | str) -> Invoice:
    qs = Invoice.objects.select_related("customer", "partner").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk"))
    )
    if not scope.is_staff:
        qs = qs.exclude(status=Invoice.Status.DRAFT)
    return get_scoped_or_404(qs, scope, pk=pk)


def invoice_allocations(*, invoice: Invoice) -> QuerySet[PaymentAllocation]:
    return invoice.allocations.select_related("payment").order_by("created_at", "pk")


def invoice_history(*, scope: Scope, invoice: Invoice) -> QuerySet[AuditEvent]:
    """What happened to the invoice (staff only: customers get an empty list)."""
    return (
        AuditEvent.objects.for_scope(scope)
        .filter(target_type="billing.invoice", target_id=str(invoice.pk))
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def payment_list(*, scope: Scope, customer_id: int | None = None) -> QuerySet[Payment]:
    qs = (
        Payment.objects.for_scope(scope)
        .select_related("customer")
        .prefetch_related(Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("invoice")))
    )
    return qs.filter(customer_id=customer_id) if customer_id else qs


def payment_get(*, scope: Scope, pk: int | str) -> Payment:
    return get_scoped_or_404(payment_list(scope=scope), scope, pk=pk)


def credit_note_list(*, scope: Scope, customer_id: int | None = None) -> QuerySet[CreditNote]:
    qs = CreditNote.objects.for_scope(scope).select_related("customer", "invoice")
    return qs.filter(customer_id=customer_id) if customer_id else qs


def credit_note_get(*, scope: Scope, pk: int | str) -> CreditNote:
    return get_scoped_or_404(credit_note_list(scope=scope), scope, pk=pk)


@dataclass(frozen=True)
class CustomerAccount:
    """Where a customer stands: what it owes, what is overdue, what credit it has."""

    balance: Decimal
    overdue: Decimal
    credit: Decimal
    open_invoices: int
    oldest_due: dt.date | None


def customer_account(*, scope: Scope, customer: Customer) -> CustomerAccount:
    today = clock.today(scope.partner.time_zone)
    open_qs = Invoice.objects.for_scope(scope).filter(customer=customer).open()
    sums = open_qs.aggregate(
        balance=Sum("balance"),
        overdue=Sum("balance", filter=Q(due_date__lt=today)),
    )
    credit = Payment.objects.for_scope(scope).filter(customer=customer).aggregate(c=Sum("unallocated"))["c"]
    oldest = open_qs.order_by("due_date").values_list("due_date", flat=True).first()
    return CustomerAccount(
        balance=sums["balance"] or ZERO,
        overdue=sums["overdue"] or ZERO,
        credit=credit or ZERO,
        open_invoices=open_qs.count(),
        oldest_due=oldest,
    )
