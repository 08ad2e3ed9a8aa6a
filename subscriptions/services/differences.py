"""Differences between the portal and Microsoft, as a sync found them (docs/architecture.md).

The sync records, per subscription, where the portal's status, quantity, term end or auto-renew
differ from Microsoft's (`differences_found`, `differences_record`), and never overwrites them.
Staff then take Microsoft's value (`subscription_difference_take`: the portal row changes, audited)
or push the portal's (`subscription_difference_push`: a status goes through the suspend/reactivate
change machinery; a quantity is a PATCH of `quantity` sent after commit by a task).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Partner, User
from subscriptions import partner_center
from subscriptions.errors import PartnerCenterError, SubscriptionStatusNotAllowed
from subscriptions.models import (
    ChangeSource,
    Subscription,
    SubscriptionChange,
    SubscriptionDifference,
    SubscriptionStatusEvent,
)
from subscriptions.services.answers import term_from_microsoft
from subscriptions.services.push import partner_center_client
from subscriptions.services.records import subscription_quantity_change
from subscriptions.services.status import subscriptions_status_request

Status = Subscription.Status
Field = SubscriptionDifference.Field
State = SubscriptionDifference.State
# Microsoft's own status as the portal's: what "take Microsoft's value" makes the subscription.
STATUS_FROM_MICROSOFT = {
    "active": Status.ACTIVE, "suspended": Status.SUSPENDED, "deleted": Status.CANCELLED,
    "expired": Status.CANCELLED, "disabled": Status.CANCELLED,
}  # fmt: skip
# Portal statuses compared with Microsoft's; a pending one waits for its change instead.
SETTLED = (Status.ACTIVE, Status.SUSPENDED, Status.CANCELLED)

Found = dict[str, tuple[str, str]]  # field -> (portal value, Microsoft's value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def differences_found(sub: Subscription, resource: dict[str, Any], *, heard_before: bool) -> Found:
    """What differs between `sub` and Microsoft's `resource`. Term end and auto-renew only count once
    the portal has heard from Microsoft before (the first answer is simply taken)."""
    found: Found = {}
    status = str(partner_center.field(resource, "status") or "").lower()
    if sub.status in SETTLED and status in STATUS_FROM_MICROSOFT and STATUS_FROM_MICROSOFT[status] != sub.status:
        found[Field.STATUS] = (sub.status, status)
    quantity = partner_center.field(resource, "quantity")
    if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity != sub.quantity:
        found[Field.QUANTITY] = (str(sub.quantity), str(quantity))
    if not heard_before:
        return found
    end = str(partner_center.field(resource, "commitmentEndDate") or "")[:10]
    if end and sub.commitment_end_date is not None and end != sub.commitment_end_date.isoformat():
        found[Field.TERM_END] = (sub.commitment_end_date.isoformat(), end)
    renew = partner_center.field(resource, "autoRenewEnabled")
    if isinstance(renew, bool) and renew != sub.auto_renew_enabled:
        found[Field.AUTO_RENEW] = (_text(sub.auto_renew_enabled), _text(renew))
    return found


def differences_record(*, partner: Partner, sync_id: int | None, checked: list[int], found: dict[int, Found]) -> int:
    """Bring the open differences of the `checked` subscriptions in line with `found`, set-based (one
    read, one insert, one update, one close). Differences being pushed are left alone. Returns how
    many differences are open for them now."""
    current = {
        (d.subscription_id, d.field): d
        for d in SubscriptionDifference.objects.select_for_update().filter(
            subscription_id__in=checked, state__in=SubscriptionDifference.OPEN_STATES
        )
    }
    wanted = {(pk, name): values for pk, fields in found.items() for name, values in fields.items()}
    closed = [d.pk for key, d in current.items() if d.state == State.OPEN and key not in wanted]
    changed, new = [], []
    for (pk, name), (portal, microsoft) in wanted.items():
        d = current.get((pk, name))
        if d is None:
            new.append(SubscriptionDifference(
                partner=partner, subscription_id=pk, sync_id=sync_id, field=name, portal_value=portal,
                microsoft_value=microsoft,
            ))  # fmt: skip
        elif d.state == State.OPEN and (d.portal_value, d.microsoft_value) != (portal, microsoft):
            d.portal_value, d.microsoft_value, d.sync_id = portal, microsoft, sync_id
            changed.append(d)
    if closed:
        SubscriptionDifference.objects.filter(pk__in=closed).update(state=State.GONE, resolved_at=clock.now())
    if changed:
        SubscriptionDifference.objects.bulk_update(changed, ["portal_value", "microsoft_value", "sync"])
    if new:
        SubscriptionDifference.objects.bulk_create(new)
    return len(wanted)


def _locked(difference: SubscriptionDifference) -> tuple[SubscriptionDifference, Subscription]:
    """The difference and its subscription, locked (subscription first, as the status services do);
    refused unless the difference is open."""
    sub = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer", "partner")
        .get(pk=difference.subscription_id)
    )
    locked = SubscriptionDifference.objects.select_for_update().get(pk=difference.pk)
    if locked.state != State.OPEN:
        raise SubscriptionStatusNotAllowed(_("This difference is no longer open."))
    if locked.field == Field.STATUS:
        if sub.status != locked.portal_value:
            raise SubscriptionStatusNotAllowed(
                _("The subscription's status changed since the sync; sync again to compare it with Microsoft.")
            )
        if sub.changes.filter(state__in=SubscriptionChange.OPEN_STATES).exists():
            raise SubscriptionStatusNotAllowed(_("A change of this subscription is still open; wait for it."))
    return locked, sub


def _status_set(sub: Subscription, status: str, *, reason: str, actor: User | None) -> None:
    """The subscription takes `status` as Microsoft has it, with a history row."""
    before, now = sub.status, clock.now()
    sub.status = status
    if status == Status.SUSPENDED:
        sub.suspended_at, sub.suspension_source = now, ChangeSource.MANUAL
        sub.auto_renew_before_suspension = sub.auto_renew_enabled
    elif status == Status.ACTIVE:
        sub.suspended_at, sub.suspension_source, sub.auto_renew_before_suspension = None, "", None
    else:
        today = clock.today(sub.partner.time_zone)
        sub.suspended_at, sub.end_date = None, max(sub.start_date, min(sub.end_date or today, today))
    sub.save(update_fields=["status", "suspended_at", "suspension_source", "auto_renew_before_suspension", "end_date"])
    SubscriptionStatusEvent.objects.create(
        partner=sub.partner, subscription=sub, from_status=before, to_status=status, reason=reason,
        actor=actor if actor is not None and actor.is_authenticated else None, source="partner_center_sync",
        created_at=now,
    )  # fmt: skip


def _resolved(d: SubscriptionDifference, sub: Subscription, *, state: str, actor: User | None) -> None:
    d.state, d.resolved_at, d.error = state, clock.now(), ""
    d.resolved_by = actor if actor is not None and actor.is_authenticated else None
    d.save(update_fields=["state", "resolved_at", "resolved_by", "error"])
    audit_record(
        partner=sub.partner, customer=sub.customer, actor=actor, action="subscription.difference_resolved",
        target=sub, data={"field": d.field, "portal": d.portal_value, "microsoft": d.microsoft_value, "resolution": state},
    )  # fmt: skip


@transaction.atomic
def subscription_difference_take(*, difference: SubscriptionDifference, actor: User | None) -> SubscriptionDifference:
    """ "Take Microsoft's value": the portal's row takes what the sync read at Microsoft. Audited."""
    d, sub = _locked(difference)
    if d.field == Field.STATUS:
        _status_set(sub, STATUS_FROM_MICROSOFT[d.microsoft_value], reason=_("Taken from Microsoft after a sync"),
                    actor=actor)  # fmt: skip
    elif d.field == Field.QUANTITY:
        sub = subscription_quantity_change(subscription=sub, quantity=int(d.microsoft_value), actor=actor)
    elif d.field == Field.TERM_END:
        sub.commitment_end_date = dt.date.fromisoformat(d.microsoft_value)
        sub.save(update_fields=["commitment_end_date"])
    else:
        sub.auto_renew_enabled = d.microsoft_value == "true"
        sub.save(update_fields=["auto_renew_enabled"])
    _resolved(d, sub, state=State.TOOK_MICROSOFT, actor=actor)
    return d


def difference_push_refusal(difference: SubscriptionDifference) -> str | None:
    """Why the portal's value cannot be sent to Microsoft (for the page and the service), or None."""
    if difference.field == Field.QUANTITY:
        return None
    if difference.field == Field.STATUS:
        if difference.portal_value in (Status.ACTIVE, Status.SUSPENDED) and difference.microsoft_value in (
            "active",
            "suspended",
        ):
            return None
        return _("Only an active or suspended status can be sent; take Microsoft's value instead.")
    return _("Microsoft sets the term end and auto-renew follows its own rules: take Microsoft's value.")


@transaction.atomic
def subscription_difference_push(*, difference: SubscriptionDifference, actor: User | None) -> SubscriptionDifference:
    """ "Push the portal's value" to Microsoft. A status: the subscription is first recorded as Microsoft
    has it, then the portal's status is asked for through the change machinery (suspend or
    reactivate, pushed after commit). A quantity: sent after commit by a task (a PATCH of
    `quantity`); the difference shows "sending" until Microsoft answered. Audited."""
    d, sub = _locked(difference)
    if refusal := difference_push_refusal(d):
        raise SubscriptionStatusNotAllowed(refusal)
    if d.field == Field.QUANTITY:
        d.state, d.error = State.PUSHING, ""
        d.resolved_by = actor if actor is not None and actor.is_authenticated else None
        d.save(update_fields=["state", "error", "resolved_by"])
        from subscriptions.tasks import subscription_difference_push_task

        transaction.on_commit(lambda: subscription_difference_push_task.delay(difference_id=d.pk))
        return d
    wanted = d.portal_value
    _status_set(sub, STATUS_FROM_MICROSOFT[d.microsoft_value], reason=_("As Microsoft has it (found by a sync)"),
                actor=actor)  # fmt: skip
    subscriptions_status_request(
        partner=sub.partner, subscription_ids=[sub.pk], wanted=wanted, actor=actor, source="manual",
        reason=_("The portal's status sent to Microsoft after a sync"),
    )  # fmt: skip
    _resolved(d, sub, state=State.PUSHED, actor=actor)
    return d


def subscription_difference_quantity_send(*, difference_id: int) -> SubscriptionDifference:
    """Send a difference's portal quantity to Microsoft (the task). The call happens outside any
    transaction; setting a quantity twice sets the same quantity. A refusal puts the difference back
    to open with Microsoft's reason in the partner's language."""
    d = SubscriptionDifference.objects.select_related("subscription__customer", "partner").get(pk=difference_id)
    if d.state != State.PUSHING:
        return d
    sub = d.subscription
    try:
        with translation.override(d.partner.locale):
            answer = _quantity_send(sub, int(d.portal_value))
    except PartnerCenterError as exc:
        with translation.override(d.partner.locale):
            message = exc.staff_message or exc.description or str(exc)
        SubscriptionDifference.objects.filter(pk=d.pk, state=State.PUSHING).update(
            state=State.OPEN, error=message[:2000]
        )
        d.refresh_from_db()
        return d
    with transaction.atomic():
        sub = Subscription.objects.select_for_update(of=("self",)).select_related("customer", "partner").get(pk=sub.pk)
        fields = term_from_microsoft(sub, answer)
        if fields:
            sub.save(update_fields=fields)
        d = SubscriptionDifference.objects.select_for_update().get(pk=d.pk)
        _resolved(d, sub, state=State.PUSHED, actor=d.resolved_by)
    return d


def _quantity_send(sub: Subscription, quantity: int) -> dict[str, Any]:
    if settings.PARTNER_CENTER_BACKEND != "http":
        return {"backend": "record", "quantity": quantity}
    client = partner_center_client(partner=sub.partner)
    try:
        return client.subscription_update(
            customer_tenant_id=str(sub.customer.tenant_id), subscription_id=sub.microsoft_subscription_id,
            changes={"quantity": quantity},
        )  # fmt: skip
    finally:
        client.close()
