from django.urls import path

from billing.collections import template_views, views

urlpatterns = [
    path("", views.CollectionsOverviewView.as_view(), name="collections_overview"),
    path("policy/", views.CollectionPolicyView.as_view(), name="collection_policy_edit"),
    path("notices/wording/", template_views.NoticeTemplateListView.as_view(), name="collection_notice_templates"),
    path(
        "notices/wording/<int:pk>/",
        template_views.NoticeTemplateEditView.as_view(),
        name="collection_notice_template_edit",
    ),
    path("runs/dry-run/", template_views.CollectionDryRunView.as_view(), name="collection_dry_run"),
    path("runs/", views.CollectionRunListView.as_view(), name="collection_run_list"),
    path("runs/start/", views.CollectionRunStartView.as_view(), name="collection_run_start"),
    path("runs/<int:pk>/", views.CollectionRunDetailView.as_view(), name="collection_run_detail"),
    path("notices/<int:pk>/mark-sent/", views.NoticeDecideView.as_view(), name="collection_notice_mark_sent"),
    path(
        "notices/<int:pk>/send-again/",
        views.NoticeDecideView.as_view(send_again=True),
        name="collection_notice_send_again",
    ),
    path("customers/<int:pk>/hold/", views.CustomerCollectionsHoldView.as_view(), name="customer_collections_hold"),
]
