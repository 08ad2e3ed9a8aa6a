from django.urls import path

from billing import views

urlpatterns = [
    path("invoices.csv", views.InvoiceCsvView.as_view(), name="invoice_csv"),
    path("payments.csv", views.PaymentCsvView.as_view(), name="payment_csv"),
]
