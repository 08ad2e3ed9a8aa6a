"""The pages that compose several apps: the staff dashboard and the customer's self-service home.

They sit at the top of the dependency chain (docs/architecture.md) and read each app's selectors;
a panel that shows several apps at once is added here, never in the apps themselves.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.views.generic import TemplateView

from billing.collections import selectors as collections_selectors
from billing.finance import selectors as finance_selectors
from billing.invoicing import selectors as billing_selectors
from billing.payments_online import selectors as online_payments_selectors
from partner_portal import clock, selectors
from partner_portal.access import ScopedViewMixin
from partner_portal.models import CUSTOMER_ROLES, STAFF_ROLES, Role
from partner_portal.pagination import keyset_page
from subscriptions import selectors as subscription_selectors
from tickets import selectors as ticket_selectors

CUSTOMER_INVOICES_PAGE = 12
CUSTOMER_RECENT_ROWS = 10


class StaffDashboardView(ScopedViewMixin, TemplateView):
    allowed_roles = STAFF_ROLES
    template_name = "dashboards/staff_dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            counts=selectors.dashboard_counts(scope=self.scope),
            receivables=finance_selectors.receivables_summary(scope=self.scope),
            recent_customers=selectors.customer_list(scope=self.scope).order_by("-created_at", "-pk")[:5],
            activity=selectors.recent_audit(scope=self.scope, limit=8),
            ticket_queue=ticket_selectors.ticket_queue_counts(scope=self.scope),
            today=clock.today(self.scope.partner.time_zone),
            # Suspensions or reactivations Microsoft refused, and Azure plan steps waiting for staff.
            subscription_changes_attention=subscription_selectors.subscription_changes_needing_attention(
                scope=self.scope
            ).count(),
            **kwargs,
        )


class CustomerHomeView(ScopedViewMixin, TemplateView):
    """The customer's self-service page: its account, issued invoices, payments, credit notes and
    subscriptions. Every list comes from a selector given the customer user's scope, so only this
    customer's rows (and never a draft) can appear."""

    allowed_roles = CUSTOMER_ROLES
    template_name = "dashboards/customer_home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        customer = self.scope.customer
        if customer is None:  # customer roles always belong to a customer; this keeps the types honest
            raise PermissionDenied
        invoices = keyset_page(
            billing_selectors.invoice_list(scope=self.scope),
            sort_field="created_at",
            descending=True,
            cursor=self.request.GET.get("cursor"),
            size=CUSTOMER_INVOICES_PAGE,
        )
        pay_enabled = online_payments_selectors.card_payments_offered(customer=customer)
        return super().get_context_data(
            customer=customer,
            partner=self.scope.partner,
            account=billing_selectors.customer_account(scope=self.scope, customer=customer),
            invoices=invoices,
            payments=list(billing_selectors.payment_list(scope=self.scope)[:CUSTOMER_RECENT_ROWS]),
            credit_notes=list(billing_selectors.credit_note_list(scope=self.scope)[:CUSTOMER_RECENT_ROWS]),
            subscriptions=list(subscription_selectors.subscription_list(scope=self.scope)),
            collections=collections_selectors.customer_collections_status(scope=self.scope, customer=customer),
            pay_enabled=pay_enabled,
            # The "Card and autopay" panel is the customer admins'; a failed charge is shown to everyone.
            card_manage=pay_enabled and self.scope.has_role({Role.CUSTOMER_ADMIN}),
            saved_card=online_payments_selectors.saved_card(scope=self.scope, customer=customer),
            autopay_attempt=online_payments_selectors.autopay_last_attempt(scope=self.scope, customer=customer),
            card_returned=self.request.GET.get("card", ""),
            support=ticket_selectors.customer_support_card(scope=self.scope),
            today=clock.today(self.scope.partner.time_zone),
            **kwargs,
        )
