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
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record_many, audit_row
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
    its reactivation is sent first, then waits for that step. Rows are locked in id order, so concurrent
    callers queue and the second finds nothing to do. The pushes are scheduled after commit. Returns
    the changes created.
    """
    made = _status_request(
        partner=partner, subscription_ids=subscription_ids, wanted=wanted, reason=reason, actor=actor, source=source
    )
    return list(SubscriptionChange.objects.filter(pk__in=made).order_by("pk")) if made else []


@transaction.atomic
def subscriptions_status_request_many(
    *,
    partner: Partner,
    subscription_ids: Iterable[int],
    wanted: str,
    reason: str,
    actor: User | None,
    source: str,
) -> int:
    """subscriptions_status_request for many subscriptions at once (a collections run asks for
    thousands): the same changes, history and audit rows, without reading them back; how many."""
    return len(
        _status_request(
            partner=partner, subscription_ids=subscription_ids, wanted=wanted, reason=reason, actor=actor,
            source=source,
        )
    )  # fmt: skip


def _status_request(
    *, partner: Partner, subscription_ids: Iterable[int], wanted: str, reason: str, actor: User | None, source: str
) -> list[int]:
    """The rule behind both: the ids of the changes made, in subscription order."""
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
    locked = list(
        Subscription.objects.select_for_update(of=("self",))
        .filter(eligible, partner=partner, pk__in=ids)
        .annotate(azure=ExpressionWrapper(Subscription.azure_plan_condition(), output_field=BooleanField()))
        .order_by("pk")
        .values_list("pk", "azure")
    )
    if not locked:
        return []
    open_changes = list(
        # Locked, so a push that claims one of them now waits and then finds it superseded.
        SubscriptionChange.objects.select_for_update()
        .filter(subscription_id__in=[pk for pk, _azure in locked], state__in=SubscriptionChange.OPEN_STATES)
        .values_list("pk", "subscription_id", "state")
    )
    in_flight = {sub_id for _pk, sub_id, state in open_changes if state == State.IN_PROGRESS}
    subs = [(pk, azure) for pk, azure in locked if pk not in in_flight]
    if not subs:
        return []
    now = clock.now()
    superseded = [pk for pk, sub_id, _state in open_changes if sub_id not in in_flight]
    if superseded:
        SubscriptionChange.objects.filter(pk__in=superseded).exclude(state=State.IN_PROGRESS).update(
            state=State.SUPERSEDED, next_attempt_at=now
        )
    request = _Request(
        partner=partner, wanted=wanted, reason=reason, source=source, now=now,
        actor=actor if actor is not None and actor.is_authenticated else None,
    )  # fmt: skip
    if connection.vendor == "postgresql":
        made = _changes_write(request, subs)
    else:
        made = _changes_write_portable(request, subs)
    _schedule_push([pk for pk, state in made if state == State.PENDING])
    return [pk for pk, _state in made]


@dataclass(frozen=True)
class _Request:
    partner: Partner
    wanted: str
    reason: str
    source: str
    actor: User | None
    now: dt.datetime

    def manual_first(self, azure: bool) -> bool:
        """An Azure plan waits for its step in Azure Resource Manager before anything is sent, except a
        reactivation: the plan is reactivated at Microsoft first, then staff are reminded of the step."""
        return azure and self.wanted != "active"

    @property
    def manual_error(self) -> str:
        return AZURE_PLAN_STEP if self.wanted == "suspended" else AZURE_PLAN_STEP_REACTIVATE


# One statement for any number of subscriptions (PostgreSQL): the changes, the subscriptions' history and
# audit rows as INSERT … SELECT, and the subscriptions moved on. Every part reads `subs` as it was
# before the statement, so the history and the audit record the status each subscription had.
_CHANGES_SQL = """
WITH subs AS (
    SELECT s.id, s.customer_id, s.status, s.product, s.quantity, s.id = ANY(%(azure)s) AS azure
    FROM {subscription} s WHERE s.id = ANY(%(ids)s)
),
changes AS (
    INSERT INTO {change} (partner_id, subscription_id, wanted_status, request_id, source, reason, actor_id, state,
                          attempts, next_attempt_at, last_error, microsoft_response, created_at)
    SELECT %(partner)s, id, %(wanted)s, gen_random_uuid(), %(source)s, %(reason)s, %(actor)s,
           CASE WHEN azure AND %(manual_first)s THEN %(manual_state)s ELSE %(pending_state)s END, 0,
           %(next_attempt_at)s, CASE WHEN azure AND %(manual_first)s THEN %(manual_error)s ELSE '' END,
           '{{}}'::jsonb, %(now)s
    FROM subs ORDER BY id
    RETURNING id, subscription_id, state, request_id
),
history AS (
    INSERT INTO {event} (partner_id, subscription_id, from_status, to_status, reason, actor_id, source, change_id,
                         microsoft_response, created_at)
    SELECT %(partner)s, s.id, s.status, %(target)s, %(reason)s, %(actor)s, %(source)s, c.id, '{{}}'::jsonb, %(now)s
    FROM subs s JOIN changes c ON c.subscription_id = s.id
),
audit AS (  -- as audit_record_many writes them; the target's name is Subscription.__str__
    INSERT INTO {audit} (partner_id, customer_id, actor_id, action, target_type, target_id, target_repr, data,
                         created_at)
    SELECT %(partner)s, s.customer_id, %(actor)s, %(action)s, %(target_type)s, s.id::text,
           left(s.product || ' × ' || s.quantity, 200),
           jsonb_build_object('from', s.status, 'to', %(target)s, 'reason', %(reason)s, 'source', %(source)s,
                              'change', c.id, 'request_id', c.request_id::text, 'azure_plan', s.azure),
           %(now)s
    FROM subs s JOIN changes c ON c.subscription_id = s.id
),
moved AS (
    UPDATE {subscription} t SET status = %(target)s, suspension_source = {suspension_source}
    WHERE t.id = ANY(%(ids)s)
)
SELECT id, state FROM changes ORDER BY id
"""


def _changes_write(request: _Request, subs: list[tuple[int, bool]]) -> list[tuple[int, str]]:
    """The changes for `subs` (id, Azure plan), with their history and audit rows, in one statement;
    (change id, state) of each."""
    sql = _CHANGES_SQL.format(
        subscription=Subscription._meta.db_table, change=SubscriptionChange._meta.db_table,
        event=SubscriptionStatusEvent._meta.db_table, audit=AuditEvent._meta.db_table,
        suspension_source="%(source)s" if request.wanted == "suspended" else "t.suspension_source",
    )  # fmt: skip
    params: dict[str, Any] = {
        "ids": [pk for pk, _azure in subs], "azure": [pk for pk, azure in subs if azure],
        "partner": request.partner.pk, "wanted": request.wanted, "source": request.source, "reason": request.reason,
        "actor": request.actor.pk if request.actor is not None else None,
        "manual_first": request.manual_first(True), "manual_state": State.NEEDS_MANUAL_STEP,
        "pending_state": State.PENDING, "manual_error": request.manual_error,
        "next_attempt_at": request.now + SWEEP_GRACE, "now": request.now, "target": PENDING_STATUS[request.wanted],
        "action": REQUESTED_ACTIONS[request.wanted], "target_type": Subscription._meta.label_lower,
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, state) for pk, state in cursor.fetchall()]


def _changes_write_portable(request: _Request, subs: list[tuple[int, bool]]) -> list[tuple[int, str]]:
    """The same as _changes_write on a database without it (SQLite, the embedded mode), a row at a time."""
    azure = dict(subs)
    rows = list(Subscription.objects.filter(pk__in=azure).order_by("pk"))
    target = PENDING_STATUS[request.wanted]
    changes = [
        SubscriptionChange(
            partner=request.partner, subscription=sub, wanted_status=request.wanted, request_id=uuid.uuid4(),
            source=request.source, reason=request.reason, actor=request.actor,
            state=State.NEEDS_MANUAL_STEP if request.manual_first(azure[sub.pk]) else State.PENDING,
            last_error=request.manual_error if request.manual_first(azure[sub.pk]) else "",
            next_attempt_at=request.now + SWEEP_GRACE, created_at=request.now,
        )
        for sub in rows
    ]  # fmt: skip
    SubscriptionChange.objects.bulk_create(changes)
    update: dict[str, Any] = {"status": target}
    if request.wanted == "suspended":
        update["suspension_source"] = request.source
    Subscription.objects.filter(pk__in=azure).update(**update)
    SubscriptionStatusEvent.objects.bulk_create(
        SubscriptionStatusEvent(
            partner=request.partner, subscription=sub, from_status=sub.status, to_status=target,
            reason=request.reason, actor=request.actor, source=request.source, change=change, created_at=request.now,
        )
        for sub, change in zip(rows, changes, strict=True)
    )  # fmt: skip
    audit_record_many(
        partner=request.partner, action=REQUESTED_ACTIONS[request.wanted], actor=request.actor,
        rows=[
            audit_row(sub, {"from": sub.status, "to": target, "reason": request.reason, "source": request.source,
                            "change": change.pk, "request_id": str(change.request_id), "azure_plan": azure[sub.pk]})
            for sub, change in zip(rows, changes, strict=True)
        ],
        created_at=request.now,
    )  # fmt: skip
    return [(change.pk, change.state) for change in changes]


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
