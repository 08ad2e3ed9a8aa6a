"""Pages of Partner Center reconciliation imports, under staff/billing/ (included by billing.urls)."""

from django.urls import path

from billing.reconciliation import views

urlpatterns = [
    # Partner Center reconciliation files.
    path("reconciliation/", views.ReconciliationListView.as_view(), name="reconciliation_list"),
    path("reconciliation/<int:pk>/", views.ReconciliationDetailView.as_view(), name="reconciliation_detail"),
    path("reconciliation/<int:pk>/status/", views.ReconciliationStatusView.as_view(), name="reconciliation_status"),
    path("reconciliation/<int:pk>/map/", views.ReconciliationMapView.as_view(), name="reconciliation_map"),
    path(
        "reconciliation/<int:pk>/bill-usage/",
        views.ReconciliationBillUsageView.as_view(),
        name="reconciliation_bill_usage",
    ),
]
