"""Peppol sending's pages under staff/billing/peppol/ and Storecove's webhook under webhooks/."""

from django.urls import path

from billing.peppol import views

urlpatterns = [
    path("staff/billing/peppol/settings/", views.PeppolSettingsView.as_view(), name="peppol_settings"),
    path("staff/billing/peppol/settings/pause/", views.PeppolPauseView.as_view(), name="peppol_pause"),
    path("staff/billing/peppol/receiver-check/", views.ReceiverCheckView.as_view(), name="peppol_receiver_check"),
    path("staff/billing/peppol/", views.SubmissionListView.as_view(), name="einvoice_submission_list"),
    path("staff/billing/peppol/<int:pk>/", views.SubmissionDetailView.as_view(), name="einvoice_submission_detail"),
    path("staff/billing/peppol/<int:pk>/retry/", views.SubmissionRetryView.as_view(), name="einvoice_submission_retry"),
    path(
        "staff/billing/peppol/<int:pk>/evidence/",
        views.SubmissionEvidenceView.as_view(),
        name="einvoice_submission_evidence",
    ),
    path(
        "webhooks/storecove/<str:partner>/<str:token>/", views.StorecoveWebhookView.as_view(), name="storecove_webhook"
    ),
]
