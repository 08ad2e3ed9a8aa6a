"""Subscriptions in the Django admin: for looking. Status changes go through the services, which ask
Microsoft, keep the history and audit; the Partner Center secret is never shown."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from subscriptions.models import PartnerCenterAccount, Subscription, SubscriptionChange, SubscriptionStatusEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["product", "partner", "customer", "status", "quantity", "unit_price", "microsoft_subscription_id"]
    list_filter = ["partner", "status", "product_family"]
    search_fields = ["product", "microsoft_subscription_id", "customer__name"]
    list_select_related = ["partner", "customer"]


@admin.register(SubscriptionChange)
class SubscriptionChangeAdmin(ReadOnlyAdmin):
    list_display = ["subscription", "partner", "wanted_status", "state", "source", "attempts", "created_at"]
    list_filter = ["partner", "state", "wanted_status", "source"]
    search_fields = ["request_id", "subscription__microsoft_subscription_id"]
    list_select_related = ["partner", "subscription"]


@admin.register(SubscriptionStatusEvent)
class SubscriptionStatusEventAdmin(ReadOnlyAdmin):
    list_display = ["subscription", "partner", "from_status", "to_status", "source", "actor", "created_at"]
    list_filter = ["partner", "to_status", "source"]
    list_select_related = ["partner", "subscription", "actor"]


@admin.register(PartnerCenterAccount)
class PartnerCenterAccountAdmin(ReadOnlyAdmin):
    list_display = ["partner", "aad_tenant_id", "application_id", "updated_at"]
    fields = readonly_fields = ("partner", "aad_tenant_id", "application_id", "updated_at", "updated_by")
