"""Suspension and reactivation as changes pushed to Partner Center (docs/architecture.md).

A change is a row committed with the subscription's move to "suspension pending" or "reactivation
pending"; the call to Microsoft happens after commit, in a task, and the subscription only becomes
suspended or active when Microsoft confirms. Nothing is lost between the database and the call: the
retry sweep pushes any change still pending that no worker is working on.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.models import AuditEvent, Partner, User
from subscriptions import lifecycle
from subscriptions.errors import (
    SubscriptionError,
    SubscriptionStatusNotAllowed,
)
from subscriptions.models import Subscription, SubscriptionChange, SubscriptionStatusEvent

logger = logging.getLogger(__name__)

Status = Subscription.Status
State = SubscriptionChange.State

WANTED = ("suspended", "active", "deleted")
SOURCES = ("manual", "collections")
# The status a subscription takes while its change waits for Microsoft, and once Microsoft confirms.
PENDING_STATUS = {
    "suspended": Status.SUSPENSION_PENDING, "active": Status.REACTIVATION_PENDING,
    "deleted": Status.CANCELLATION_PENDING,
}  # fmt: skip
FINAL_STATUS = {"suspended": Status.SUSPENDED, "active": Status.ACTIVE, "deleted": Status.CANCELLED}
REQUESTED_ACTIONS = {
    "suspended": "subscription.suspension_requested", "active": "subscription.reactivation_requested",
    "deleted": "subscription.cancellation_requested",
}  # fmt: skip
CONFIRMED_ACTIONS = {
    Status.SUSPENDED: "subscription.suspended", Status.ACTIVE: "subscription.reactivated",
    Status.CANCELLED: "subscription.cancelled",
}  # fmt: skip
# A new change is pushed by the task scheduled after commit; the sweep leaves it to that task for this
# long before it takes over (the task was lost, the worker was down).
SWEEP_GRACE = dt.timedelta(minutes=2)
# How long a worker holds a claimed change before the sweep assumes it died mid-call.
CLAIM_LEASE = dt.timedelta(minutes=10)
PUSH_TASK_CHUNK = 500  # changes per push message when many are asked at once
AZURE_PLAN_STEP = "Azure plan: suspend in Azure Resource Manager"
AZURE_PLAN_STEP_REACTIVATE = "Azure plan: reactivate in Azure Resource Manager"


CONFIRMATION_REASONS = {
    "partner_center": lambda: _("Confirmed by Microsoft"),
    "record": lambda: _("Recorded without calling Partner Center (record-only backend)"),
    "manual": lambda: _("Done in Azure Resource Manager"),
}


def retry_delay(attempts: int) -> dt.timedelta:
    """Pause after `attempts` failed attempts: base, 2x, 4x ... capped at six hours."""
    base = settings.PARTNER_CENTER_RETRY_BASE_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 60 * 60))


def _schedule_push(change_ids: list[int]) -> None:
    """After commit: one change is pushed by its own task (which retries itself); many, as a bulk
    suspension is, go to the broker PUSH_TASK_CHUNK to a message, never one message per change."""
    if not change_ids:
        return
    from subscriptions.tasks import subscription_change_push_task, subscription_changes_push_task

    def push() -> None:
        if len(change_ids) == 1:
            subscription_change_push_task.delay(change_id=change_ids[0])
            return
        for start in range(0, len(change_ids), PUSH_TASK_CHUNK):
            subscription_changes_push_task.delay(change_ids=change_ids[start : start + PUSH_TASK_CHUNK])

    transaction.on_commit(push)


def _audit_rows(
    *, partner: Partner, actor: User | None, action: str, rows: list[tuple[Subscription, dict[str, Any]]]
) -> None:
    """audit_record for many subscriptions in one INSERT (a collections run suspends in bulk)."""
    actor = actor if actor is not None and actor.is_authenticated else None
    AuditEvent.objects.bulk_create(
        AuditEvent(
            partner=partner, customer_id=sub.customer_id, actor=actor, action=action,
            target_type=sub._meta.label_lower, target_id=str(sub.pk), target_repr=str(sub)[:200], data=data,
        )
        for sub, data in rows
    )  # fmt: skip


def _manual_first(sub: Subscription, wanted: str) -> bool:
    """An Azure plan waits for its step in Azure Resource Manager before anything is sent, except a
    reactivation: the plan is reactivated at Microsoft first, then staff are reminded of the step."""
    return sub.is_azure_plan and wanted != "active"


def _in_flight(change: SubscriptionChange | None) -> bool:
    return change is not None and change.state == State.IN_PROGRESS


@transaction.atomic
def subscriptions_status_request(
    *,
    partner: Partner,
    subscription_ids: Iterable[int],
    wanted: str,
    reason: str,
    actor: User | None,
    source: str,
) -> list[SubscriptionChange]:
    """Ask Microsoft to suspend (wanted="suspended") or reactivate (wanted="active") subscriptions.

    Set-based and idempotent: only subscriptions of `partner` whose status allows it get a change.
    Suspending takes active ones (and reactivation-pending ones whose change is not in flight) to
    "suspension pending"; reactivating takes suspended and suspension-pending ones to "reactivation
    pending", and with source="collections" only those collections suspended. Cancelled ones, ones
    already there and ones with a call in flight get nothing. Each change has a fresh MS-RequestId,
    a history row and an audit event; an open change it replaces is superseded. An Azure plan's
    suspension first waits for staff to record the step in Azure Resource Manager, then is sent;
    its reactivation is sent first, then waits for that step. Rows are locked in id order, so concurrent callers queue and the second finds nothing to
    do. The pushes are scheduled after commit. Returns the changes created.
    """
    if wanted not in WANTED:
        raise ValueError(f"wanted must be one of {WANTED}, not {wanted!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    reason = reason.strip()
    if not reason:
        raise SubscriptionError(_("Give a reason for the change."))
    ids = sorted({int(i) for i in subscription_ids})
    if not ids:
        return []
    if wanted == "suspended":
        eligible = Q(status=Status.ACTIVE) | Q(status=Status.REACTIVATION_PENDING)
    elif wanted == "deleted":  # the cancellation window is checked by subscription_cancel
        eligible = Q(status__in=[Status.ACTIVE, Status.SUSPENDED])
    else:
        eligible = Q(status__in=[Status.SUSPENDED, Status.SUSPENSION_PENDING])
        if source == "collections":  # a suspension by hand is only ever undone by hand
            eligible &= Q(suspension_source="collections")
    # FOR UPDATE re-checks the WHERE after waiting for a concurrent caller's lock: once that caller
    # has moved a subscription on, it no longer matches here.
    subs = list(
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(eligible, partner=partner, pk__in=ids)
        .order_by("pk")
    )
    if not subs:
        return []
    open_changes = {
        c.subscription_id: c
        # Locked, so a push that claims one of them now waits and then finds it superseded.
        for c in SubscriptionChange.objects.select_for_update().filter(
            subscription__in=subs, state__in=SubscriptionChange.OPEN_STATES
        )
    }
    subs = [s for s in subs if not _in_flight(open_changes.get(s.pk))]
    if not subs:
        return []
    now = clock.now()
    superseded = [open_changes[s.pk].pk for s in subs if s.pk in open_changes]
    if superseded:
        SubscriptionChange.objects.filter(pk__in=superseded).exclude(state=State.IN_PROGRESS).update(
            state=State.SUPERSEDED, next_attempt_at=now
        )
    target = PENDING_STATUS[wanted]
    changes = [
        SubscriptionChange(
            partner=partner, subscription=sub, wanted_status=wanted, request_id=uuid.uuid4(), source=source,
            reason=reason, actor=actor if actor is not None and actor.is_authenticated else None,
            state=State.NEEDS_MANUAL_STEP if _manual_first(sub, wanted) else State.PENDING,
            last_error=(AZURE_PLAN_STEP if wanted == "suspended" else AZURE_PLAN_STEP_REACTIVATE)
            if _manual_first(sub, wanted) else "",
            next_attempt_at=now + SWEEP_GRACE, created_at=now,
        )
        for sub in subs
    ]  # fmt: skip
    SubscriptionChange.objects.bulk_create(changes)
    update: dict[str, Any] = {"status": target}
    if wanted == "suspended":
        update["suspension_source"] = source
    Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(**update)
    SubscriptionStatusEvent.objects.bulk_create(
        SubscriptionStatusEvent(
            partner=partner, subscription=sub, from_status=sub.status, to_status=target, reason=reason,
            actor=change.actor, source=source, change=change, created_at=now,
        )
        for sub, change in zip(subs, changes, strict=True)
    )  # fmt: skip
    action = REQUESTED_ACTIONS[wanted]
    _audit_rows(
        partner=partner, actor=actor, action=action,
        rows=[
            (sub, {"from": sub.status, "to": target, "reason": reason, "source": source,
                   "change": change.pk, "request_id": str(change.request_id), "azure_plan": sub.is_azure_plan})
            for sub, change in zip(subs, changes, strict=True)
        ],
    )  # fmt: skip
    _schedule_push([c.pk for c in changes if c.state == State.PENDING])
    return changes


def subscription_status_refusal(*, subscription: Subscription, wanted: str) -> str | None:
    """Why staff cannot ask for this change now (a message for the page and the API), or None."""
    open_change = subscription.changes.filter(state__in=SubscriptionChange.OPEN_STATES).first()
    if subscription.status == Status.CANCELLED:
        return _("The subscription is cancelled.")
    if _in_flight(open_change):
        return _("A change of this subscription is being sent to Microsoft; try again in a minute.")
    if subscription.status == Status.CANCELLATION_PENDING:
        return _("Its cancellation is being confirmed by Microsoft.")
    if wanted == "deleted":
        return lifecycle.cancel_refusal(subscription, clock.today(subscription.partner.time_zone))
    if wanted == "suspended" and subscription.status in (Status.SUSPENDED, Status.SUSPENSION_PENDING):
        return _("The subscription is already suspended or its suspension is pending.")
    if wanted == "active" and subscription.status in (Status.ACTIVE, Status.REACTIVATION_PENDING):
        return _("The subscription is already active or its reactivation is pending.")
    return None


def _single(*, subscription: Subscription, wanted: str, reason: str, actor: User | None) -> SubscriptionChange | None:
    changes = subscriptions_status_request(
        partner=subscription.partner, subscription_ids=[subscription.pk], wanted=wanted, reason=reason, actor=actor,
        source="manual",
    )  # fmt: skip
    return changes[0] if changes else None


def subscription_suspend(*, subscription: Subscription, reason: str, actor: User | None) -> SubscriptionChange | None:
    """Suspend by hand (collections will never undo it). None when the status does not allow it."""
    return _single(subscription=subscription, wanted="suspended", reason=reason, actor=actor)


def subscription_reactivate(
    *, subscription: Subscription, reason: str, actor: User | None
) -> SubscriptionChange | None:
    """Reactivate by hand, whoever suspended it. None when the status does not allow it."""
    return _single(subscription=subscription, wanted="active", reason=reason, actor=actor)


def subscription_cancel(*, subscription: Subscription, reason: str, actor: User | None) -> SubscriptionChange | None:
    """Cancel a new-commerce subscription at Microsoft (PATCH status "deleted"), only within the 7-day
    window after its purchase or renewal; SubscriptionStatusNotAllowed says why not otherwise."""
    if refusal := lifecycle.cancel_refusal(subscription, clock.today(subscription.partner.time_zone)):
        raise SubscriptionStatusNotAllowed(refusal)
    return _single(subscription=subscription, wanted="deleted", reason=reason, actor=actor)
