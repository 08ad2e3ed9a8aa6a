"""The pages that compose several apps: the staff dashboard and the customer's self-service home.

They live at the top of the project (DESIGN.md §3) and read each app's selectors; as billing,
subscriptions and tickets land, their panels are added here, never in the apps themselves.
"""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from partner_portal import clock, selectors
from partner_portal.access import ScopedViewMixin
from partner_portal.models import CUSTOMER_ROLES, STAFF_ROLES


class StaffDashboardView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "portal/staff_dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            counts=selectors.dashboard_counts(scope=self.scope),
            recent_customers=selectors.customer_list(scope=self.scope).order_by("-created_at", "-pk")[:5],
            activity=selectors.recent_audit(scope=self.scope, limit=8),
            today=clock.today(self.scope.partner.time_zone),
            **kwargs,
        )


class CustomerHomeView(ScopedViewMixin, TemplateView):
    """The customer's self-service page. Billing, subscriptions and tickets join it as their apps land."""

    allowed_roles = CUSTOMER_ROLES
    template_name = "portal/customer_home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(customer=self.scope.customer, partner=self.scope.partner, **kwargs)
