"""Peppol sending's services (docs/architecture.md, "Peppol sending")."""

from billing.peppol.services.accounts import access_point_connect, access_point_pause, receiver_check
from billing.peppol.services.submissions import (
    backoff,
    document_issued,
    submission_evidence,
    submission_retry_now,
    submission_send,
    submissions_due,
    submissions_retry_due,
)
from billing.peppol.services.webhooks import webhook_apply, webhook_receive, webhooks_pull, webhooks_pull_all

__all__ = [
    "access_point_connect",
    "access_point_pause",
    "backoff",
    "document_issued",
    "receiver_check",
    "submission_evidence",
    "submission_retry_now",
    "submission_send",
    "submissions_due",
    "submissions_retry_due",
    "webhook_apply",
    "webhook_receive",
    "webhooks_pull",
    "webhooks_pull_all",
]
