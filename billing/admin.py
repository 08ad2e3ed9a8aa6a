"""Billing in the Django admin: for looking, not for changing money.

Issued invoices, payments, allocations and credit notes are read-only here as everywhere: changes go
through the services (credit notes, voids), which number, audit and keep the balances right.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from billing.collections.models import CollectionRun, Notice
from billing.invoicing.models import CreditNote, ExportJob, Invoice, InvoiceLine, Payment
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = readonly_fields = ("position", "description", "quantity", "unit_price", "tax_rate", "amount", "tax_amount")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "partner", "customer", "status", "issue_date", "due_date", "total", "balance"]
    list_filter = ["partner", "status"]
    search_fields = ["number", "customer__name"]
    list_select_related = ["partner", "customer"]
    inlines = [InvoiceLineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["received_on", "partner", "customer", "amount", "currency", "method", "reference", "unallocated"]
    list_filter = ["partner", "method"]
    search_fields = ["reference", "customer__name"]
    list_select_related = ["partner", "customer"]


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "partner", "customer", "invoice", "amount", "issue_date"]
    list_filter = ["partner"]
    search_fields = ["number", "invoice__number", "customer__name"]
    list_select_related = ["partner", "customer", "invoice"]


@admin.register(MicrosoftPayable)
class MicrosoftPayableAdmin(ReadOnlyAdmin):
    list_display = ["partner", "period", "amount", "currency", "due_date", "source"]
    list_filter = ["partner", "source"]


@admin.register(ReconciliationImport)
class ReconciliationImportAdmin(ReadOnlyAdmin):
    list_display = [
        "partner",
        "period",
        "kind",
        "file_name",
        "status",
        "total_lines",
        "matched_lines",
        "unmatched_lines",
        "total",
    ]
    list_filter = ["partner", "status", "kind"]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ["partner", "kind", "status", "done", "total", "created_at"]
    list_filter = ["partner", "status"]


# --- Collections: read-only, the run and the policy pages make every change ------------------------------


@admin.register(CollectionRun)
class CollectionRunAdmin(ReadOnlyAdmin):
    list_display = [
        "partner", "run_date", "status", "triggered_by", "notices_sent", "suspensions_requested",
        "reactivations_requested", "errors_count", "started_at",
    ]  # fmt: skip
    list_filter = ["partner", "status", "triggered_by"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["partner", "customer", "invoice", "offset_days", "action", "status", "amount_due", "sent_at"]
    list_filter = ["partner", "status", "action"]
    search_fields = ["invoice__number", "customer__name"]
    list_select_related = ["partner", "customer", "invoice"]
