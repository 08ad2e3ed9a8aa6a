"""Billing's pages under staff/billing/, from its parts (collections has its own prefix, staff/collections/)."""

from django.urls import include, path

urlpatterns = [
    path("", include("billing.finance.urls")),
    path("", include("billing.invoicing.urls")),
    path("", include("billing.reconciliation.urls")),
]
