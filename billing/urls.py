from django.urls import path

from billing import views

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
    path("customers/<int:pk>/", views.CustomerBillingView.as_view(), name="customer_billing"),
    path("invoices.csv", views.InvoiceCsvView.as_view(), name="invoice_csv"),
    path("payments.csv", views.PaymentCsvView.as_view(), name="payment_csv"),
]
