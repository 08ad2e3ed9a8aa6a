"""Pages of invoices, payments, credit notes, CSV and bulk PDF exports, under staff/billing/."""

from django.urls import path

from billing.invoicing.views import exports, invoices, payments

urlpatterns = [
    path("invoices/", invoices.InvoiceListView.as_view(), name="invoice_list"),
    path("invoices/new/", invoices.InvoiceCreateView.as_view(), name="invoice_create"),
    path("invoices/<int:pk>/", invoices.InvoiceDetailView.as_view(), name="invoice_detail"),
    path("invoices/<int:pk>/edit/", invoices.InvoiceEditView.as_view(), name="invoice_edit"),
    path("invoices/<int:pk>/issue/", invoices.InvoiceIssueView.as_view(), name="invoice_issue"),
    path("invoices/<int:pk>/delete/", invoices.InvoiceDeleteView.as_view(), name="invoice_delete"),
    path("invoices/<int:pk>/void/", invoices.InvoiceVoidView.as_view(), name="invoice_void"),
    path("invoices/<int:pk>/send/", invoices.InvoiceSendView.as_view(), name="invoice_send"),
    path("invoices/<int:pk>/credit/", invoices.CreditNoteCreateView.as_view(), name="credit_note_create"),
    path("credit-notes/<int:pk>/", invoices.CreditNoteDetailView.as_view(), name="credit_note_detail"),
    path("payments/", payments.PaymentListView.as_view(), name="payment_list"),
    path("payments/new/", payments.PaymentCreateView.as_view(), name="payment_create"),
    path("payments/<int:pk>/", payments.PaymentDetailView.as_view(), name="payment_detail"),
    path("payments/<int:pk>/void/", payments.PaymentVoidView.as_view(), name="payment_void"),
    path("payments/<int:pk>/refund/", payments.RefundCreateView.as_view(), name="refund_create"),
    path("invoices.csv", invoices.InvoiceCsvView.as_view(), name="invoice_csv"),
    path("payments.csv", payments.PaymentCsvView.as_view(), name="payment_csv"),
    # Bulk PDF export: GET lists the jobs, POST starts one (two names for the one address).
    path("exports/", exports.ExportListView.as_view(), name="export_list"),
    path("exports/", exports.ExportListView.as_view(), name="export_create"),
    path("exports/<int:pk>/", exports.ExportDetailView.as_view(), name="export_detail"),
    path("exports/<int:pk>/status/", exports.ExportStatusView.as_view(), name="export_status"),
    path("exports/<int:pk>/download/", exports.ExportDownloadView.as_view(), name="export_download"),
]
