from django.urls import include, path

from billing import views

urlpatterns = [
    path("", views.FinanceDashboardView.as_view(), name="finance_dashboard"),
    path("invoices/", views.InvoiceListView.as_view(), name="invoice_list"),
    path("invoices/new/", views.InvoiceCreateView.as_view(), name="invoice_create"),
    path("invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.InvoiceEditView.as_view(), name="invoice_edit"),
    path("invoices/<int:pk>/issue/", views.InvoiceIssueView.as_view(), name="invoice_issue"),
    path("invoices/<int:pk>/void/", views.InvoiceVoidView.as_view(), name="invoice_void"),
    path("invoices/<int:pk>/credit/", views.CreditNoteCreateView.as_view(), name="credit_note_create"),
    path("payments/", views.PaymentListView.as_view(), name="payment_list"),
    path("payments/new/", views.PaymentCreateView.as_view(), name="payment_create"),
    path("customers/<int:pk>/", views.CustomerBillingView.as_view(), name="customer_billing"),
    path("invoices.csv", views.InvoiceCsvView.as_view(), name="invoice_csv"),
    path("payments.csv", views.PaymentCsvView.as_view(), name="payment_csv"),
    # What is due to Microsoft, entered by hand (imports produce it too).
    path("payables/new/", views.MicrosoftPayableFormView.as_view(), name="payable_create"),
    path("payables/<int:pk>/edit/", views.MicrosoftPayableFormView.as_view(), name="payable_edit"),
    # Bulk PDF export: GET lists the jobs, POST starts one (two names for the one address).
    path("exports/", views.ExportListView.as_view(), name="export_list"),
    path("exports/", views.ExportListView.as_view(), name="export_create"),
    path("exports/<int:pk>/", views.ExportDetailView.as_view(), name="export_detail"),
    path("exports/<int:pk>/status/", views.ExportStatusView.as_view(), name="export_status"),
    path("exports/<int:pk>/download/", views.ExportDownloadView.as_view(), name="export_download"),
    path("", include("billing.reconciliation.urls")),
]
