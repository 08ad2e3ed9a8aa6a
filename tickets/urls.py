"""Ticket pages. Included at the root: staff pages under staff/, customer pages under my/."""

from django.urls import path

from tickets import plan_views, views
from tickets.canned import views as canned_views
from tickets.knowledge import views as knowledge_views
from tickets.mailbox import views as mailbox_views

urlpatterns = [
    path("staff/tickets/", views.TicketListView.as_view(), name="ticket_list"),
    path("staff/tickets/assign/", views.TicketBulkAssignView.as_view(), name="ticket_bulk_assign"),
    path("staff/tickets/new/", views.TicketCreateView.as_view(), name="ticket_create"),
    path("staff/tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
    path("staff/tickets/<int:pk>/reply/", views.TicketReplyView.as_view(), name="ticket_reply"),
    path("staff/tickets/<int:pk>/status/", views.TicketStatusView.as_view(), name="ticket_status"),
    path("staff/tickets/<int:pk>/edit/", views.TicketEditView.as_view(), name="ticket_edit"),
    path("staff/tickets/<int:pk>/time/", views.TicketTimeView.as_view(), name="ticket_time"),
    path(
        "staff/tickets/<int:pk>/canned-replies/<int:reply_pk>/",
        canned_views.TicketCannedReplyView.as_view(),
        name="ticket_canned_reply",
    ),
    path("staff/support/offering/", views.SupportOfferingView.as_view(), name="support_offering"),
    path("staff/support/plans/", plan_views.SupportPlanListView.as_view(), name="support_plan_list"),
    path("staff/support/plans/new/", plan_views.SupportPlanFormView.as_view(), name="support_plan_create"),
    path("staff/support/plans/<int:pk>/", plan_views.SupportPlanFormView.as_view(), name="support_plan_edit"),
    path("staff/support/canned-replies/", canned_views.CannedReplyListView.as_view(), name="canned_reply_list"),
    path("staff/support/canned-replies/new/", canned_views.CannedReplyFormView.as_view(), name="canned_reply_create"),
    path(
        "staff/support/canned-replies/<int:pk>/", canned_views.CannedReplyFormView.as_view(), name="canned_reply_edit"
    ),
    path(
        "staff/support/canned-replies/<int:pk>/delete/",
        canned_views.CannedReplyDeleteView.as_view(),
        name="canned_reply_delete",
    ),
    path("staff/support/knowledge/", knowledge_views.ArticleListView.as_view(), name="knowledge_article_list"),
    path("staff/support/knowledge/new/", knowledge_views.ArticleFormView.as_view(), name="knowledge_article_create"),
    path("staff/support/knowledge/<int:pk>/", knowledge_views.ArticleFormView.as_view(), name="knowledge_article_edit"),
    path(
        "staff/support/knowledge/<int:pk>/publish/",
        knowledge_views.ArticlePublishView.as_view(),
        name="knowledge_article_publish",
    ),
    path(
        "staff/support/knowledge/<int:pk>/delete/",
        knowledge_views.ArticleDeleteView.as_view(),
        name="knowledge_article_delete",
    ),
    path("staff/support/satisfaction/", views.SatisfactionReportView.as_view(), name="satisfaction_report"),
    path("staff/support/mailbox/", mailbox_views.SupportMailboxView.as_view(), name="support_mailbox"),
    path("staff/support/quarantine/", mailbox_views.QuarantineListView.as_view(), name="quarantine_list"),
    path("staff/support/quarantine/<int:pk>/", mailbox_views.QuarantineDetailView.as_view(), name="quarantine_detail"),
    path(
        "staff/support/quarantine/<int:pk>/accept/",
        mailbox_views.QuarantineAcceptView.as_view(),
        name="quarantine_accept",
    ),
    path("staff/support/quarantine/<int:pk>/drop/", mailbox_views.QuarantineDropView.as_view(), name="quarantine_drop"),
    path("staff/customers/<int:pk>/support-plan/", plan_views.CustomerPlanView.as_view(), name="customer_support_plan"),
    path("my/support/", views.CustomerSupportView.as_view(), name="customer_support"),
    path("my/knowledge/", knowledge_views.CustomerArticleListView.as_view(), name="customer_knowledge_list"),
    path(
        "my/knowledge/suggest/",
        knowledge_views.CustomerArticleSuggestView.as_view(),
        name="customer_knowledge_suggest",
    ),
    path("my/knowledge/<int:pk>/", knowledge_views.CustomerArticleView.as_view(), name="customer_knowledge_article"),
    path("my/tickets/new/", views.CustomerTicketCreateView.as_view(), name="customer_ticket_create"),
    path("my/tickets/<int:pk>/", views.CustomerTicketDetailView.as_view(), name="customer_ticket_detail"),
    path("my/tickets/<int:pk>/status/", views.CustomerTicketStatusView.as_view(), name="customer_ticket_status"),
    path("my/tickets/<int:pk>/rate/", views.CustomerTicketRateView.as_view(), name="customer_ticket_rate"),
    # A signed link in the "resolved" email: rate without signing in (the token is the key).
    path("rate/<str:token>/", views.RatingLinkView.as_view(), name="ticket_rate_link"),
    # Files of tickets, for staff and customer users alike; scoped like every page.
    path("documents/ticket-files/<int:pk>/", views.AttachmentDownloadView.as_view(), name="ticket_attachment"),
]
