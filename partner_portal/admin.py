from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from partner_portal.models import AuditEvent, Customer, Invitation, Membership, Partner, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "language")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "microsoft_partner_id", "cloud", "default_currency", "time_zone"]
    search_fields = ["name", "microsoft_partner_id"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "domain", "currency", "language", "credit_days"]
    list_filter = ["partner", "currency", "language", "collections_exempt"]
    search_fields = ["name", "domain", "tenant_id", "billing_email"]
    list_select_related = ["partner"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "partner", "customer", "role"]
    list_filter = ["partner", "role"]
    search_fields = ["user__email"]
    list_select_related = ["user", "partner", "customer"]
    raw_id_fields = ["user", "customer"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "partner", "customer", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["partner", "role"]
    exclude = ["token"]
    list_select_related = ["partner", "customer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are sent from the Team and customer pages, which email the link


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["created_at", "partner", "action", "target_repr", "actor"]
    list_filter = ["partner", "action"]
    search_fields = ["target_repr", "target_id", "action"]
    list_select_related = ["partner", "actor"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
