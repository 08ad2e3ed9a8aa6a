"""Every write of collections: the policy, holds, the daily run and its notices."""

from billing.collections.services.dry_run import DryRun, collections_dry_run
from billing.collections.services.notice_templates import (
    NoticeDraft,
    notice_content,
    notice_preview_notice,
    notice_template_errors,
    notice_template_get,
    notice_template_reset,
    notice_template_save,
    notice_template_test_send,
)
from billing.collections.services.run import (
    StepInput,
    collection_notice_mark_sent,
    collection_notice_send,
    collection_notice_send_again,
    collection_notices_send,
    collection_policy_get,
    collection_policy_update,
    collections_customer_recheck,
    collections_run,
    collections_run_all,
    customer_collections_hold,
    notices_uncertain_mark,
)
from billing.collections.services.summaries import collections_customers_changed

__all__ = [
    "DryRun",
    "NoticeDraft",
    "StepInput",
    "collection_notice_mark_sent",
    "collection_notice_send",
    "collection_notice_send_again",
    "collection_notices_send",
    "collection_policy_get",
    "collection_policy_update",
    "collections_customer_recheck",
    "collections_customers_changed",
    "collections_dry_run",
    "collections_run",
    "collections_run_all",
    "customer_collections_hold",
    "notice_content",
    "notice_preview_notice",
    "notice_template_errors",
    "notice_template_get",
    "notice_template_reset",
    "notice_template_save",
    "notice_template_test_send",
    "notices_uncertain_mark",
]
