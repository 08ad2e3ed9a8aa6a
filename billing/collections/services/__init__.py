"""Every write of collections: the policy, holds, the daily run and its notices."""

from billing.collections.services.run import (
    StepInput,
    collection_notice_mark_sent,
    collection_notice_send,
    collection_notice_send_again,
    collection_notices_send,
    collection_policy_get,
    collection_policy_update,
    collections_customer_recheck,
    collections_customers_changed,
    collections_run,
    collections_run_all,
    customer_collections_hold,
    notices_uncertain_mark,
)

__all__ = [
    "StepInput",
    "collection_notice_mark_sent",
    "collection_notice_send",
    "collection_notice_send_again",
    "collection_notices_send",
    "collection_policy_get",
    "collection_policy_update",
    "collections_customer_recheck",
    "collections_customers_changed",
    "collections_run",
    "collections_run_all",
    "customer_collections_hold",
    "notices_uncertain_mark",
]
