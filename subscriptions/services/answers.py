"""What Microsoft's answers say about a subscription: its own status, term and auto-renew."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from subscriptions import partner_center
from subscriptions.models import Subscription

Status = Subscription.Status


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def term_from_microsoft(sub: Subscription, answer: dict[str, Any]) -> list[str]:
    """Copy Microsoft's own status, term and auto-renew from its answer onto `sub`; the fields changed."""
    resource = answer.get("subscription")
    values: dict[str, Any] = {
        "microsoft_status": microsoft_status(answer),
        "term_start_date": _date(partner_center.field(resource, "effectiveStartDate")),
        "commitment_end_date": _date(partner_center.field(resource, "commitmentEndDate")),
        "auto_renew_enabled": partner_center.field(resource, "autoRenewEnabled"),
        "term": str(partner_center.field(resource, "termDuration") or ""),
    }
    changed = []
    for name, value in values.items():
        if value in (None, "") or (name == "auto_renew_enabled" and not isinstance(value, bool)):
            continue
        if getattr(sub, name) != value:
            setattr(sub, name, value)
            changed.append(name)
    return changed


def auto_renew_notes(answer: dict[str, Any], final: str) -> list[str]:
    """What happened to auto-renew, for the status history."""
    now_on = partner_center.field(answer.get("subscription"), "autoRenewEnabled")
    if final == Status.SUSPENDED and answer.get("auto_renew_before") is True and now_on is False:
        return [
            _(
                "Auto-renew is off at Microsoft while the subscription is suspended; reactivating it turns auto-renew back on."
            )
        ]
    if final == Status.ACTIVE and answer.get("auto_renew_restored"):
        return [_("Auto-renew turned back on, as it was before the suspension.")]
    if final == Status.ACTIVE and answer.get("auto_renew_error"):
        return [_("Auto-renew could not be turned back on; turn it on in Partner Center.")]
    return []


def microsoft_status(answer: dict[str, Any]) -> str:
    """Microsoft's own status of the subscription in its answer, when it is one the portal knows."""
    status = str(partner_center.field(answer.get("subscription"), "status") or "").lower()
    return status if status in Subscription.MicrosoftStatus.values else ""
