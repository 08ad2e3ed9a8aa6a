"""Knowledge base articles in the Django admin: for looking and searching. Writing goes through the staff
pages, whose service checks the texts and audits each change."""

from __future__ import annotations

from django.contrib import admin

from tickets.admin import ReadOnlyAdmin
from tickets.knowledge.models import Article


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ("sort_title", "partner", "status", "view_count", "updated_at")
    list_filter = ("partner", "status")
    search_fields = ("title_en", "title_ru")
    list_select_related = ("partner",)
    ordering = ("partner", "sort_title")
