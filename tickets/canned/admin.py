"""Canned replies in the Django admin: for looking and searching. Writing goes through the staff pages,
whose service checks the variables and audits each change."""

from __future__ import annotations

from django.contrib import admin

from tickets.admin import ReadOnlyAdmin
from tickets.canned.models import CannedReply


@admin.register(CannedReply)
class CannedReplyAdmin(ReadOnlyAdmin):
    list_display = ("title", "partner", "use_count", "last_used_at", "updated_at")
    list_filter = ("partner",)
    search_fields = ("title", "body_en", "body_ru")
    list_select_related = ("partner",)
    ordering = ("partner", "-use_count", "title")
