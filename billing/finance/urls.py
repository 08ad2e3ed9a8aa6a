"""Finance pages, under staff/billing/: the dashboard, a customer's account, payables entered by hand."""

from django.urls import path

from billing.finance import views

urlpatterns = [
    path("", views.FinanceDashboardView.as_view(), name="finance_dashboard"),
    path("customers/<int:pk>/", views.CustomerBillingView.as_view(), name="customer_billing"),
    # What is due to Microsoft, entered by hand (imports produce it too).
    path("payables/new/", views.MicrosoftPayableFormView.as_view(), name="payable_create"),
    path("payables/<int:pk>/edit/", views.MicrosoftPayableFormView.as_view(), name="payable_edit"),
    path("payables/<int:pk>/choose/", views.MicrosoftPayableChooseView.as_view(), name="payable_choose"),
]
