from django.urls import path

from subscriptions import views, views_differences

urlpatterns = [
    path("", views.SubscriptionListView.as_view(), name="subscription_list"),
    path("<int:pk>/", views.SubscriptionDetailView.as_view(), name="subscription_detail"),
    path("<int:pk>/suspend/", views.SubscriptionSuspendView.as_view(), name="subscription_suspend"),
    path("<int:pk>/reactivate/", views.SubscriptionReactivateView.as_view(), name="subscription_reactivate"),
    path("<int:pk>/cancel/", views.SubscriptionCancelView.as_view(), name="subscription_cancel"),
    path("changes/<int:pk>/retry/", views.SubscriptionChangeRetryView.as_view(), name="subscription_change_retry"),
    path("changes/<int:pk>/done/", views.SubscriptionChangeDoneView.as_view(), name="subscription_change_done"),
    path("differences/", views_differences.DifferenceListView.as_view(), name="subscription_difference_list"),
    path(
        "differences/<int:pk>/take/",
        views_differences.DifferenceTakeView.as_view(),
        name="subscription_difference_take",
    ),
    path(
        "differences/<int:pk>/push/",
        views_differences.DifferencePushView.as_view(),
        name="subscription_difference_push",
    ),
    path("partner-center/", views.PartnerCenterAccountView.as_view(), name="partner_center_account"),
    path("partner-center/sync/", views.PartnerCenterSyncView.as_view(), name="partner_center_sync"),
    path(
        "partner-center/syncs/<int:pk>/status/",
        views.PartnerCenterSyncStatusView.as_view(),
        name="partner_center_sync_status",
    ),
]
