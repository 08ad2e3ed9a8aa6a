"""Subscription jobs. Thin: ids in, one service call; the services claim, so a double run is harmless."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(bind=True, acks_late=True, max_retries=8)
def subscription_change_push_task(self: Any, change_id: int) -> str:
    """One attempt to send a subscription change to Partner Center.

    A transient failure leaves the change pending with its next attempt's time; this task then
    retries itself at that time (the sweep, subscription_changes_retry_task, catches any it misses).
    Returns the change's state.
    """
    from partner_portal import clock
    from subscriptions.models import SubscriptionChange
    from subscriptions.services import subscription_change_push

    change = subscription_change_push(change_id=change_id)
    if change.state == SubscriptionChange.State.PENDING and change.attempts and not self.request.is_eager:
        # Eager mode (tests, a web process without a worker) leaves retries to the sweep.
        countdown = max(1, int((change.next_attempt_at - clock.now()).total_seconds()))
        if self.request.retries < self.max_retries:
            raise self.retry(kwargs={"change_id": change_id}, countdown=countdown)
    return str(change.state)


@shared_task(acks_late=True)
def subscription_changes_push_task(*, change_ids: list[int]) -> dict[str, int]:
    """One attempt at each of several changes (a bulk suspension's chunk); each is claimed first, so a
    second delivery pushes nothing twice. A transient failure waits for the sweep, which retries it at
    its next attempt's time. Returns the count of each resulting state."""
    from collections import Counter

    from subscriptions.services import subscription_change_push

    return dict(Counter(str(subscription_change_push(change_id=pk).state) for pk in change_ids))


@shared_task(acks_late=True)
def subscription_changes_retry_task() -> int:
    """The sweep (every few minutes, CELERY_BEAT_SCHEDULE): push changes still waiting for Microsoft."""
    from subscriptions.services import subscription_changes_push_due

    return len(subscription_changes_push_due())


@shared_task(acks_late=True)
def partner_center_sync_task(sync_id: int) -> str:
    """Run one queued sync from Partner Center (the page's button). Returns its status."""
    from subscriptions.services import partner_center_sync_run

    return str(partner_center_sync_run(sync_id=sync_id).status)


@shared_task(acks_late=True)
def partner_center_syncs_run_task() -> int:
    """The nightly sync of every partner with a Partner Center account (CELERY_BEAT_SCHEDULE)."""
    from subscriptions.services import partner_center_syncs_run

    return len(partner_center_syncs_run())


@shared_task(acks_late=True)
def subscription_difference_push_task(difference_id: int) -> str:
    """Send the portal's quantity of a difference to Microsoft. Returns the difference's state."""
    from subscriptions.services import subscription_difference_quantity_send

    return str(subscription_difference_quantity_send(difference_id=difference_id).state)
