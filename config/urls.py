"""The root URLconf: every app's pages under one prefix each, the API v1 router, schema and docs."""

from typing import Any

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from billing import api_urls as billing_api_urls
from billing.collections import api as collections_api
from billing.invoicing import downloads as billing_downloads
from config import health, metrics
from dashboards import views as dashboards
from escalation import api as escalation_api
from escalation import views as escalation_views
from partner_portal import api, apikit, views
from partner_portal.access import ApiDocsAccess
from subscriptions import api as subscriptions_api
from tickets import api as tickets_api
from tickets import plan_api as tickets_plan_api

# The Django admin signs in through allauth too: its rate limits and TOTP apply there as well.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

router = DefaultRouter()
router.register("auth/tokens", api.ApiTokenViewSet, basename="api-token")
router.register("customers", api.CustomerViewSet, basename="customer")
router.register("subscriptions", subscriptions_api.SubscriptionViewSet, basename="subscription")
router.register("subscription-differences", subscriptions_api.DifferenceViewSet, basename="subscription-difference")
for prefix, viewset, basename in billing_api_urls.ROUTES:
    router.register(prefix, viewset, basename=basename)
router.register("tickets", tickets_api.TicketViewSet, basename="ticket")
router.register("support-plans", tickets_plan_api.SupportPlanViewSet, basename="support-plan")
router.register("entitlements", escalation_api.EntitlementViewSet, basename="entitlement")
router.register("escalations", escalation_api.EscalationViewSet, basename="escalation")

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", api.AuthTokenView.as_view(), name="api_token"),
    path("collections/policy/", collections_api.CollectionPolicyAPIView.as_view(), name="collection-policy"),
    # Before the router, so the tickets routes do not claim it.
    path("tickets/<int:pk>/escalate/", escalation_api.TicketEscalateAPIView.as_view(), name="ticket-escalate"),
    path("support-offering/", tickets_api.SupportOfferingAPIView.as_view(), name="support-offering"),
    path("partner/", api.PartnerAPIView.as_view(), name="partner"),
    path("support-plan/", tickets_plan_api.CustomerSupportPlanAPIView.as_view(), name="customer-support-plan"),
    path("", include(router.urls)),
]


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI, its script served from the portal (the split view: no inline script). The UI injects
    its own <style> elements, so this one page allows inline styles; scripts stay 'self' only."""

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'", 1
        )
        return response


urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("invitations/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("staff/", dashboards.StaffDashboardView.as_view(), name="staff_dashboard"),
    path("staff/customers/", views.CustomerListView.as_view(), name="customer_list"),
    path("staff/customers/new/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("staff/customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("staff/customers/<int:pk>/edit/", views.CustomerEditView.as_view(), name="customer_edit"),
    path("staff/customers/<int:pk>/invite/", views.CustomerInviteView.as_view(), name="customer_invite"),
    path("staff/team/", views.TeamView.as_view(), name="team"),
    path("staff/settings/", views.PartnerSettingsView.as_view(), name="partner_settings"),
    path("staff/audit/", views.AuditLogView.as_view(), name="audit_log"),
    path("staff/audit/export.csv", views.AuditLogCsvView.as_view(), name="audit_log_csv"),
    path("staff/team/members/<int:pk>/", views.TeamMemberView.as_view(), name="team_member"),
    path(
        "staff/team/api-tokens/<int:pk>/revoke/", views.TeamApiTokenRevokeView.as_view(), name="team_api_token_revoke"
    ),
    path("account/api-tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="api_token_revoke"),
    path("staff/team/invitations/<int:pk>/", views.TeamInvitationView.as_view(), name="team_invitation"),
    path("staff/subscriptions/", include("subscriptions.urls")),
    path("staff/billing/", include("billing.urls")),
    path("staff/escalation/", include("escalation.urls")),
    path("staff/tickets/<int:pk>/escalate/", escalation_views.TicketEscalateView.as_view(), name="ticket_escalate"),
    path("", include("tickets.urls")),  # staff/tickets/, staff/support/, my/support/, my/tickets/, documents/
    path("staff/collections/", include("billing.collections.urls")),
    path("my/", dashboards.CustomerHomeView.as_view(), name="customer_home"),
    path("", include("billing.payments_online.urls")),  # my/pay/, pay/, webhooks/stripe/, staff settings
    path("", include("billing.peppol.urls")),  # staff/billing/peppol/, webhooks/storecove/
    # Documents both staff and customer users download; scoped like every page.
    path("documents/invoices/<int:pk>.pdf", billing_downloads.InvoicePdfView.as_view(), name="invoice_pdf"),
    path("documents/credit-notes/<int:pk>.pdf", billing_downloads.CreditNotePdfView.as_view(), name="credit_note_pdf"),
    path("documents/invoices/<int:pk>.xml", billing_downloads.InvoiceUblView.as_view(), name="invoice_ubl"),
    path("documents/credit-notes/<int:pk>.xml", billing_downloads.CreditNoteUblView.as_view(), name="credit_note_ubl"),
    path("documents/invoices/<int:pk>-cii.xml", billing_downloads.InvoiceCiiView.as_view(), name="invoice_cii"),
    path(
        "documents/credit-notes/<int:pk>-cii.xml", billing_downloads.CreditNoteCiiView.as_view(), name="credit_note_cii"
    ),
    path(
        "documents/invoices/<int:pk>-factur-x.pdf",
        billing_downloads.InvoiceFacturxView.as_view(),
        name="invoice_facturx",
    ),
    path(
        "documents/credit-notes/<int:pk>-factur-x.pdf",
        billing_downloads.CreditNoteFacturxView.as_view(),
        name="credit_note_facturx",
    ),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[ApiDocsAccess]), name="api_schema"),
    path(
        "api/docs/",
        ApiDocsView.as_view(url_name="api_schema", permission_classes=[ApiDocsAccess]),
        name="api_docs",
    ),
    # Last under api/: what no route above matched answers JSON, like every API refusal.
    re_path(r"^api/", apikit.api_not_found),
    path("admin/", admin.site.urls),
]
