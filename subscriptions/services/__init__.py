"""Every write of subscriptions. Import from here: `from subscriptions.services import subscription_suspend`."""

from subscriptions.services.accounts import partner_center_account_set
from subscriptions.services.differences import (
    difference_push_refusal,
    subscription_difference_push,
    subscription_difference_quantity_send,
    subscription_difference_take,
)
from subscriptions.services.push import (
    partner_center_client,
    subscription_change_complete_manually,
    subscription_change_push,
    subscription_change_retry,
    subscription_changes_push_due,
)
from subscriptions.services.records import (
    EDITABLE_FIELDS,
    SubscriptionInput,
    subscription_create,
    subscription_quantity_change,
    subscription_update,
)
from subscriptions.services.status import (
    AZURE_PLAN_STEP,
    retry_delay,
    subscription_cancel,
    subscription_reactivate,
    subscription_status_refusal,
    subscription_suspend,
    subscriptions_status_request,
    subscriptions_status_request_many,
)
from subscriptions.services.sync_jobs import (
    partner_center_sync_partners,
    partner_center_sync_request,
    partner_center_sync_run,
    partner_center_syncs_run,
)

__all__ = [
    "AZURE_PLAN_STEP",
    "EDITABLE_FIELDS",
    "SubscriptionInput",
    "difference_push_refusal",
    "partner_center_account_set",
    "partner_center_client",
    "partner_center_sync_partners",
    "partner_center_sync_request",
    "partner_center_sync_run",
    "partner_center_syncs_run",
    "retry_delay",
    "subscription_cancel",
    "subscription_change_complete_manually",
    "subscription_change_push",
    "subscription_change_retry",
    "subscription_changes_push_due",
    "subscription_create",
    "subscription_difference_push",
    "subscription_difference_quantity_send",
    "subscription_difference_take",
    "subscription_quantity_change",
    "subscription_reactivate",
    "subscription_status_refusal",
    "subscription_suspend",
    "subscription_update",
    "subscriptions_status_request",
    "subscriptions_status_request_many",
]
