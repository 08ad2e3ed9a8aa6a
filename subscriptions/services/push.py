"""Pushing status changes to Partner Center: one attempt per call, claimed by a conditional UPDATE,
the HTTP call outside any transaction, Microsoft's answer or refusal recorded (docs/architecture.md)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User
from subscriptions import partner_center
from subscriptions.errors import (
    PartnerCenterError,
    PartnerCenterGone,
    PartnerCenterPermanentError,
    PartnerCenterTransientError,
    SubscriptionStatusNotAllowed,
)
from subscriptions.models import PartnerCenterAccount, Subscription, SubscriptionChange, SubscriptionStatusEvent
from subscriptions.secrets import secret_decrypt
from subscriptions.services.answers import auto_renew_notes, term_from_microsoft
from subscriptions.services.status import (
    AZURE_PLAN_STEP_REACTIVATE,
    CLAIM_LEASE,
    CONFIRMATION_REASONS,
    CONFIRMED_ACTIONS,
    FINAL_STATUS,
    PENDING_STATUS,
    SWEEP_GRACE,
    _schedule_push,
    retry_delay,
)

logger = logging.getLogger(__name__)

Status = Subscription.Status
State = SubscriptionChange.State


def _record_answer(change: SubscriptionChange) -> dict[str, Any]:
    return {"backend": "record", "status": change.wanted_status, "recorded_at": clock.now().isoformat()}


def partner_center_client(*, partner: Partner) -> partner_center.PartnerCenterClient:
    """The http client for `partner`, from its PartnerCenterAccount."""
    account = PartnerCenterAccount.objects.filter(partner=partner).first()
    if account is None:
        raise PartnerCenterPermanentError(
            "no Partner Center account is set up for this partner",
            description=_("No Partner Center account is set up for this partner."),
        )
    try:
        secret = secret_decrypt(account.secret_encrypted)
    except ValueError as exc:
        raise PartnerCenterPermanentError(str(exc)) from exc
    return partner_center.PartnerCenterClient(
        credentials=partner_center.Credentials(
            cloud=partner.cloud, aad_tenant_id=str(account.aad_tenant_id),
            application_id=str(account.application_id), secret=secret,
        )
    )  # fmt: skip


def _send(change: SubscriptionChange) -> dict[str, Any]:
    if settings.PARTNER_CENTER_BACKEND != "http":
        return _record_answer(change)
    sub = change.subscription
    if not sub.microsoft_subscription_id:
        raise PartnerCenterPermanentError(
            "the subscription has no Microsoft subscription ID",
            description=_("The subscription has no Microsoft subscription ID."),
        )
    client = partner_center_client(partner=change.partner)
    try:
        return client.subscription_status_set(
            customer_tenant_id=str(sub.customer.tenant_id), subscription_id=sub.microsoft_subscription_id,
            status=change.wanted_status, request_id=str(change.request_id),
            restore_auto_renew=change.wanted_status == "active" and sub.auto_renew_before_suspension is True,
        )  # fmt: skip
    finally:
        client.close()


def _claim(change_id: int) -> bool:
    """Compare-and-set: only the worker that moves the change to in_progress calls Microsoft."""
    now = clock.now()
    return (
        SubscriptionChange.objects.filter(pk=change_id)
        .filter(Q(state=State.PENDING) | Q(state=State.IN_PROGRESS, next_attempt_at__lte=now))
        .update(state=State.IN_PROGRESS, attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE)
        == 1
    )


def subscription_change_push(*, change_id: int) -> SubscriptionChange:
    """One attempt to send a change to Partner Center. Safe to call twice or on two workers.

    Claims the change first (a conditional UPDATE) and does nothing unless this call claimed it; the
    HTTP call happens outside any transaction. Confirmed: the subscription becomes suspended or
    active with a history row carrying Microsoft's answer. Transient failure: back to pending with
    the error and the next attempt's time (failed after PARTNER_CENTER_MAX_ATTEMPTS). Permanent
    failure (404, 800091, no account): failed at once, shown to staff with Microsoft's description.
    """
    if not _claim(change_id):
        return SubscriptionChange.objects.get(pk=change_id)
    change = SubscriptionChange.objects.select_related("subscription__customer", "partner").get(pk=change_id)
    try:
        # Microsoft's refusals are explained to staff in the partner's language.
        with translation.override(change.partner.locale):
            answer = _send(change)
    except PartnerCenterPermanentError as exc:
        return _failed(change, exc, final=True)
    except PartnerCenterTransientError as exc:
        return _failed(change, exc, final=change.attempts >= settings.PARTNER_CENTER_MAX_ATTEMPTS)
    except PartnerCenterError as exc:  # pragma: no cover - every client error is one of the two above
        return _failed(change, exc, final=True)
    via = "record" if answer.get("backend") == "record" else "partner_center"
    return _confirmed(change_id, answer=answer, actor=None, via=via, from_state=State.IN_PROGRESS)


@transaction.atomic
def _confirmed(
    change_id: int, *, answer: dict[str, Any], actor: User | None, via: str, from_state: str
) -> SubscriptionChange:
    # Lock order as in subscriptions_status_request: the subscription first, then its change.
    subscription_id = SubscriptionChange.objects.values_list("subscription_id", flat=True).get(pk=change_id)
    sub = Subscription.objects.select_for_update(of=("self",)).select_related("customer").get(pk=subscription_id)
    change = SubscriptionChange.objects.select_for_update(of=("self",)).select_related("partner").get(pk=change_id)
    now = clock.now()
    step = change.microsoft_response.get("azure_step") if isinstance(change.microsoft_response, dict) else None
    change.microsoft_response = {**answer, "azure_step": step} if step else answer  # keep staff's note
    change_fields = ["microsoft_response"]
    if answer.get("request_id") and answer["request_id"] != str(change.request_id):
        change.request_id = uuid.UUID(answer["request_id"])  # the MS-RequestId Microsoft accepted
        change_fields.append("request_id")
    if change.state != from_state:  # superseded meanwhile: keep the answer, the newer change decides the status
        change.save(update_fields=change_fields)
        return change
    if via != "manual" and sub.is_azure_plan and change.wanted_status == "active" and not change.azure_step_done_at:
        # The plan is active at Microsoft again; its Azure subscriptions wait for the step in Azure
        # Resource Manager, which staff record (subscription_change_complete_manually).
        change.state, change.last_error = State.NEEDS_MANUAL_STEP, AZURE_PLAN_STEP_REACTIVATE
        change.save(update_fields=["state", "last_error", *change_fields])
        if term_fields := term_from_microsoft(sub, answer):
            sub.save(update_fields=term_fields)
        return change
    change.state, change.confirmed_at, change.last_error = State.CONFIRMED, now, ""
    change.save(update_fields=["state", "confirmed_at", "last_error", *change_fields])
    final = FINAL_STATUS[change.wanted_status]
    term_fields = term_from_microsoft(sub, answer)
    if term_fields:
        sub.save(update_fields=term_fields)
    if sub.status != PENDING_STATUS[change.wanted_status]:
        return change  # moved on by hand meanwhile: nothing more to record
    before = sub.status
    sub.status = final
    fields = ["status"]
    if final == Status.ACTIVE:
        sub.suspension_source, sub.suspended_at, sub.auto_renew_before_suspension = "", None, None
        fields += ["suspension_source", "suspended_at", "auto_renew_before_suspension"]
    elif final == Status.CANCELLED:  # nothing to bill after the day Microsoft cancelled it
        sub.suspended_at, sub.end_date = None, max(sub.start_date, min(sub.end_date or now.date(), now.date()))
        fields += ["suspended_at", "end_date"]
    elif final == Status.SUSPENDED:
        sub.suspended_at = now
        sub.auto_renew_before_suspension = answer.get("auto_renew_before", sub.auto_renew_enabled)
        fields += ["suspended_at", "auto_renew_before_suspension"]
    sub.save(update_fields=fields)
    reason = ". ".join([CONFIRMATION_REASONS[via](), *auto_renew_notes(answer, final)])
    SubscriptionStatusEvent.objects.create(
        partner=change.partner, subscription=sub, from_status=before, to_status=final,
        reason=reason, actor=actor, source=via, change=change, microsoft_response=answer,
        created_at=now,
    )  # fmt: skip
    audit_record(
        partner=change.partner, customer=sub.customer, actor=actor,
        action=CONFIRMED_ACTIONS[final], target=sub,
        data={"change": change.pk, "request_id": str(change.request_id), "via": via, "attempts": change.attempts},
    )  # fmt: skip
    return change


def _cancellation_refused(change: SubscriptionChange, message: str) -> None:
    """Microsoft refused a cancellation for good (its window passed): the subscription goes back to the
    status it had, with the reason in its history, and the change is closed so others can follow."""
    previous = (
        SubscriptionStatusEvent.objects.filter(change=change, to_status=Status.CANCELLATION_PENDING)
        .values_list("from_status", flat=True)
        .first()
    ) or Status.ACTIVE
    sub = Subscription.objects.select_for_update().get(pk=change.subscription_id)
    change.state = State.REFUSED
    if sub.status != Status.CANCELLATION_PENDING:
        return
    sub.status = previous
    sub.save(update_fields=["status"])
    SubscriptionStatusEvent.objects.create(
        partner=change.partner, subscription=sub, from_status=Status.CANCELLATION_PENDING, to_status=previous,
        reason=message, source="partner_center", change=change, microsoft_response=change.microsoft_response,
        created_at=clock.now(),
    )  # fmt: skip


@transaction.atomic
def _failed(change: SubscriptionChange, exc: PartnerCenterError, *, final: bool) -> SubscriptionChange:
    locked = SubscriptionChange.objects.select_for_update().get(pk=change.pk)
    message = exc.staff_message or (exc.description if isinstance(exc, PartnerCenterPermanentError) else str(exc))
    locked.last_error = message[:2000]
    locked.microsoft_response = {"error": exc.as_dict(), "attempt": locked.attempts}
    fields = ["last_error", "microsoft_response"]
    if exc.next_request_id and exc.next_request_id != str(locked.request_id):
        # Microsoft answered: its de-duplication is spent, the next attempt is a new request.
        locked.request_id = uuid.UUID(exc.next_request_id)
        fields.append("request_id")
    if isinstance(exc, PartnerCenterGone):
        Subscription.objects.filter(pk=change.subscription_id).update(
            microsoft_status=Subscription.MicrosoftStatus.DELETED
        )
    if locked.state == State.IN_PROGRESS:
        now = clock.now()
        if final:
            locked.state = State.FAILED
            locked.next_attempt_at = now
        else:
            delay = retry_delay(locked.attempts)
            if exc.retry_after is not None:
                delay = max(delay, dt.timedelta(seconds=exc.retry_after))
            locked.state, locked.next_attempt_at = State.PENDING, now + delay
        fields += ["state", "next_attempt_at"]
    if (
        locked.state == State.FAILED
        and locked.wanted_status == "deleted"
        and isinstance(exc, PartnerCenterPermanentError)
    ):
        _cancellation_refused(locked, message)
        fields.append("state")
    locked.save(update_fields=fields)
    if locked.state in (State.FAILED, State.REFUSED):
        sub = change.subscription
        audit_record(
            partner=change.partner, customer=sub.customer, actor=None, action="subscription.change_failed", target=sub,
            data={"change": locked.pk, "request_id": str(locked.request_id), "error": exc.as_dict(),
                  "attempts": locked.attempts},
        )  # fmt: skip
    logger.warning("subscription change %s: %s (%s)", locked.pk, message, locked.state)
    return locked


@transaction.atomic
def subscription_change_retry(*, change: SubscriptionChange, actor: User | None) -> SubscriptionChange:
    """Staff's "retry now": a failed (or waiting) change is pushed again at once. Audited."""
    # Only the change's row: locking its subscription here, after the change, would be the reverse of
    # the order the confirmation takes (subscription, then change).
    locked = SubscriptionChange.objects.select_for_update(of=("self",)).select_related("subscription").get(pk=change.pk)
    if locked.state not in (State.FAILED, State.PENDING):
        raise SubscriptionStatusNotAllowed(_("Only a failed or waiting change can be retried."))
    locked.state, locked.next_attempt_at = State.PENDING, clock.now() + SWEEP_GRACE
    locked.save(update_fields=["state", "next_attempt_at"])
    audit_record(
        partner=locked.partner, customer=locked.subscription.customer, actor=actor,
        action="subscription.change_retried", target=locked.subscription,
        data={"change": locked.pk, "request_id": str(locked.request_id)},
    )  # fmt: skip
    _schedule_push([locked.pk])
    return locked


def subscription_change_complete_manually(
    *, change: SubscriptionChange, actor: User | None, note: str = ""
) -> SubscriptionChange:
    """Staff record that they did an Azure plan's step in Azure Resource Manager. Audited.

    A suspension is then sent to Microsoft (the plan itself, PATCH status "suspended", after commit);
    a reactivation, already confirmed by Microsoft, is then done."""
    if change.state != State.NEEDS_MANUAL_STEP:
        raise SubscriptionStatusNotAllowed(_("This change does not wait for a manual step."))
    done = {"backend": "manual", "note": note.strip(), "done_at": clock.now().isoformat()}
    if change.wanted_status == "suspended":
        return _azure_plan_send(change, actor=actor, done=done)
    answer = {**change.microsoft_response, **done} if change.wanted_status == "active" else done
    SubscriptionChange.objects.filter(pk=change.pk).update(azure_step_done_at=clock.now())
    confirmed = _confirmed(change.pk, answer=answer, actor=actor, via="manual", from_state=State.NEEDS_MANUAL_STEP)
    if confirmed.state != State.CONFIRMED:
        raise SubscriptionStatusNotAllowed(_("This change does not wait for a manual step."))
    return confirmed


@transaction.atomic
def _azure_plan_send(change: SubscriptionChange, *, actor: User | None, done: dict[str, Any]) -> SubscriptionChange:
    """The Azure subscriptions are disabled: the plan's suspension goes to Microsoft (after commit)."""
    locked = (
        SubscriptionChange.objects.select_for_update(of=("self",))
        .select_related("subscription__customer")
        .get(pk=change.pk)
    )
    if locked.state != State.NEEDS_MANUAL_STEP:
        raise SubscriptionStatusNotAllowed(_("This change does not wait for a manual step."))
    now = clock.now()
    locked.state, locked.last_error, locked.azure_step_done_at = State.PENDING, "", now
    locked.microsoft_response, locked.next_attempt_at = {"azure_step": done}, now + SWEEP_GRACE
    locked.save(update_fields=["state", "last_error", "azure_step_done_at", "microsoft_response", "next_attempt_at"])
    sub = locked.subscription
    audit_record(
        partner=locked.partner, customer=sub.customer, actor=actor, action="subscription.azure_step_done", target=sub,
        data={"change": locked.pk, "wanted": locked.wanted_status, "note": done["note"]},
    )  # fmt: skip
    _schedule_push([locked.pk])
    return locked


def subscription_changes_push_due(*, limit: int = 500) -> list[int]:
    """The retry sweep: push changes still pending whose next attempt is due, and changes whose
    worker died mid-call (lease lapsed). Each is pushed at most once per sweep: its next attempt is
    moved on by its backoff before the push is queued, and the push claims it. Returns the ids."""
    now = clock.now()
    due = list(
        SubscriptionChange.objects.filter(
            state__in=[State.PENDING, State.IN_PROGRESS], next_attempt_at__lte=now
        ).order_by("next_attempt_at", "pk").values_list("pk", "state", "attempts")[:limit]
    )  # fmt: skip
    queued: list[int] = []
    for pk, state, attempts in due:
        moved = SubscriptionChange.objects.filter(pk=pk, state=state, next_attempt_at__lte=now)
        if state == State.IN_PROGRESS:  # the claim lapsed: make it claimable again
            updated = moved.update(state=State.PENDING, next_attempt_at=now + retry_delay(attempts + 1))
        else:
            updated = moved.update(next_attempt_at=now + retry_delay(attempts + 1))
        if updated:
            queued.append(pk)
    if queued:
        from subscriptions.tasks import subscription_change_push_task

        for pk in queued:
            subscription_change_push_task.delay(change_id=pk)
    return queued
