from django.contrib import admin

from escalation.models import BreachNotice, Entitlement, EntitlementType, Escalation, SupportChannel, SupportTier


@admin.register(SupportTier)
class SupportTierAdmin(admin.ModelAdmin):
    """The tier catalogue is data: what each tier covers, requires, and where to file a case."""

    list_display = ["name", "code", "kind", "rank", "valid_from", "valid_until", "retired"]
    list_filter = ["kind", "retired"]
    readonly_fields = ["code", "kind"]


@admin.register(EntitlementType)
class EntitlementTypeAdmin(admin.ModelAdmin):
    """Entitlement types are data: a new offering is a row; a retired one cannot be chosen for new entitlements."""

    list_display = [
        "name",
        "code",
        "tier",
        "counts_incidents",
        "default_incidents",
        "valid_from",
        "valid_until",
        "retired",
    ]
    list_filter = ["tier", "retired", "counts_incidents"]
    list_select_related = ["tier"]

    def get_readonly_fields(self, request: object, obj: EntitlementType | None = None) -> list[str]:
        return ["code"] if obj is not None else []  # entitlements refer to the code


@admin.register(SupportChannel)
class SupportChannelAdmin(admin.ModelAdmin):
    """Where to file per tier, product family and cloud, and the family's guidance in the case summary."""

    list_display = ["tier", "product_family", "cloud", "channel"]
    list_filter = ["tier", "product_family", "cloud"]
    list_select_related = ["tier"]


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = ["partner", "kind", "reference", "valid_from", "valid_until", "preference", "incidents_remaining"]
    list_filter = ["partner", "kind"]
    list_select_related = ["partner"]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    """Read-only here: escalations change through the portal's pages and API, which audit them."""

    list_display = ["ticket", "partner", "tier", "status", "microsoft_case_number", "automatic", "created_at"]
    list_filter = ["partner", "tier", "status", "automatic"]
    list_select_related = ["partner", "tier", "ticket"]
    search_fields = ["microsoft_case_number", "ticket__subject"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(BreachNotice)
class BreachNoticeAdmin(admin.ModelAdmin):
    list_display = ["ticket", "partner", "kind", "sent_at"]
    list_filter = ["partner", "kind"]
    list_select_related = ["partner", "ticket"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
