"""Pages of invoices, payments, credit notes, CSV and bulk PDF exports, under staff/billing/."""

from django.urls import path

from billing.invoicing import export_views, views

urlpatterns = [
    path("invoices/", views.InvoiceListView.as_view(), name="invoice_list"),
    path("invoices/new/", views.InvoiceCreateView.as_view(), name="invoice_create"),
    path("invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.InvoiceEditView.as_view(), name="invoice_edit"),
    path("invoices/<int:pk>/issue/", views.InvoiceIssueView.as_view(), name="invoice_issue"),
    path("invoices/<int:pk>/void/", views.InvoiceVoidView.as_view(), name="invoice_void"),
    path("invoices/<int:pk>/credit/", views.CreditNoteCreateView.as_view(), name="credit_note_create"),
    path("payments/", views.PaymentListView.as_view(), name="payment_list"),
    path("payments/new/", views.PaymentCreateView.as_view(), name="payment_create"),
    path("invoices.csv", views.InvoiceCsvView.as_view(), name="invoice_csv"),
    path("payments.csv", views.PaymentCsvView.as_view(), name="payment_csv"),
    # Bulk PDF export: GET lists the jobs, POST starts one (two names for the one address).
    path("exports/", export_views.ExportListView.as_view(), name="export_list"),
    path("exports/", export_views.ExportListView.as_view(), name="export_create"),
    path("exports/<int:pk>/", export_views.ExportDetailView.as_view(), name="export_detail"),
    path("exports/<int:pk>/status/", export_views.ExportStatusView.as_view(), name="export_status"),
    path("exports/<int:pk>/download/", export_views.ExportDownloadView.as_view(), name="export_download"),
]
