"""Online payments' pages: staff settings under staff/billing/, the customer's under my/pay/ and my/card/, pay links
and the demo checkout under pay/, Stripe's webhook under webhooks/."""

from django.urls import path

from billing.payments_online import views

urlpatterns = [
    path(
        "staff/billing/online-payments/",
        views.OnlinePaymentsSettingsView.as_view(),
        name="online_payments_settings",
    ),
    path("my/pay/invoices/<int:pk>/", views.CustomerPayInvoiceView.as_view(), name="customer_pay_invoice"),
    path("my/pay/overdue/", views.CustomerPayOverdueView.as_view(), name="customer_pay_overdue"),
    path("my/card/setup/", views.CustomerCardSetupView.as_view(), name="customer_card_setup"),
    path("my/card/autopay/", views.CustomerAutopayView.as_view(), name="customer_autopay"),
    path("my/card/remove/", views.CustomerCardRemoveView.as_view(), name="customer_card_remove"),
    path("my/pay/return/", views.CustomerCheckoutView.as_view(), name="customer_checkout"),
    path("pay/demo-checkout/<str:session_id>/", views.DemoCheckoutView.as_view(), name="payments_demo_checkout"),
    path("pay/demo-card-setup/<str:session_id>/", views.DemoCardSetupView.as_view(), name="payments_demo_card_setup"),
    path("pay/<str:token>/", views.PayLinkView.as_view(), name="pay_link"),
    path("pay/<str:token>/done/", views.PayLinkDoneView.as_view(), name="pay_link_done"),
    path("webhooks/stripe/<str:partner>/", views.StripeWebhookView.as_view(), name="stripe_webhook"),
]
