from django.urls import path

from escalation import views

urlpatterns = [
    path("", views.EscalationListView.as_view(), name="escalation_list"),
    path("<int:pk>/", views.EscalationDetailView.as_view(), name="escalation_detail"),
    path("tiers/", views.SupportTierListView.as_view(), name="support_tier_list"),
    path("entitlements/", views.EntitlementListView.as_view(), name="entitlement_list"),
    path("entitlements/new/", views.EntitlementFormView.as_view(), name="entitlement_create"),
    path("entitlements/<int:pk>/edit/", views.EntitlementFormView.as_view(), name="entitlement_edit"),
    path("entitlements/<int:pk>/end/", views.EntitlementEndView.as_view(), name="entitlement_end"),
]
