"""Tickets in the Django admin: for looking. Changes go through the pages and services, which keep the
SLA clock, the audit trail and the emails right."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tickets.models import SupportOffering, Ticket, TicketMessage, TimeEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageInline(admin.TabularInline):
    model = TicketMessage
    fields = readonly_fields = ("created_at", "author", "internal", "body")
    extra = 0
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("number", "subject", "customer", "partner", "status", "severity", "assignee", "created_at")
    list_filter = ("status", "severity", "category", "partner")
    search_fields = ("subject", "customer__name")
    list_select_related = ("customer", "partner", "assignee")
    inlines = (MessageInline,)


@admin.register(SupportOffering)
class SupportOfferingAdmin(ReadOnlyAdmin):
    list_display = ("partner", "time_zone", "price_model", "price_amount", "currency", "updated_at")


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "agent", "minutes", "billable", "worked_on", "billed_invoice")
    list_filter = ("billable", "partner")
    list_select_related = ("ticket", "agent", "billed_invoice")


# The support mailboxes and the quarantine: the operator connects a partner's mailbox here. Canned
# replies: for looking; the staff pages check their variables and audit changes.
from tickets.canned import admin as canned_admin  # noqa: E402, F401

# The knowledge base: for looking; the staff pages check the texts and audit changes.
from tickets.knowledge import admin as knowledge_admin  # noqa: E402, F401
from tickets.mailbox import admin as mailbox_admin  # noqa: E402, F401
