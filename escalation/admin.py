from django.contrib import admin

from escalation.models import Entitlement, SupportTier


@admin.register(SupportTier)
class SupportTierAdmin(admin.ModelAdmin):
    """The tier catalogue is data: what each tier covers, requires, and where to file a case."""

    list_display = ["name", "code", "kind", "rank"]
    readonly_fields = ["code", "kind"]


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = ["partner", "kind", "reference", "valid_from", "valid_until", "preference"]
    list_filter = ["partner", "kind"]
    list_select_related = ["partner"]
