"""Where a subscription stands in Microsoft's lifecycle: pure rules shared by the services and pages.

"Subscription lifecycle states" (https://learn.microsoft.com/partner-center/customers/subscription-lifecycle):
a new-commerce subscription can be cancelled within 7 days of its purchase or renewal; a suspended one
that is still suspended at the end of its term is not renewed. "Suspend a subscription"
(https://learn.microsoft.com/partner-center/customers/suspend-a-subscription): a legacy subscription's
data is deleted unless it is reactivated within 90 days.
"""

from __future__ import annotations

import datetime as dt

from django.utils import formats
from django.utils.translation import gettext as _

from subscriptions.models import Subscription

CANCELLATION_WINDOW = dt.timedelta(days=7)
LEGACY_DATA_KEPT = dt.timedelta(days=90)
LEGACY_WARNING_AFTER = dt.timedelta(days=60)


def cancellation_window_end(sub: Subscription) -> dt.date | None:
    """The last day a new-commerce subscription can be cancelled (7 days from its current term's start)."""
    if not sub.is_new_commerce or sub.term_start_date is None:
        return None
    return sub.term_start_date + CANCELLATION_WINDOW - dt.timedelta(days=1)


def can_cancel(sub: Subscription, today: dt.date) -> bool:
    end = cancellation_window_end(sub)
    return end is not None and sub.term_start_date is not None and sub.term_start_date <= today <= end


def term_days_left(sub: Subscription, today: dt.date) -> int | None:
    if sub.commitment_end_date is None:
        return None
    return max((sub.commitment_end_date - today).days, 0)


def days_suspended(sub: Subscription, now: dt.datetime) -> int | None:
    if sub.status != Subscription.Status.SUSPENDED or sub.suspended_at is None:
        return None
    return (now - sub.suspended_at).days


def legacy_data_deleted_on(sub: Subscription) -> dt.date | None:
    """When Microsoft deletes a suspended legacy subscription's data, if it is not reactivated."""
    if sub.is_new_commerce or sub.status != Subscription.Status.SUSPENDED or sub.suspended_at is None:
        return None
    return (sub.suspended_at + LEGACY_DATA_KEPT).date()


def legacy_warning_due(sub: Subscription, now: dt.datetime) -> bool:
    """Legacy subscriptions suspended for 60 days or more: 30 days or fewer before the data goes."""
    days = days_suspended(sub, now)
    return not sub.is_new_commerce and days is not None and days >= LEGACY_WARNING_AFTER.days


def cancel_refusal(sub: Subscription, today: dt.date) -> str | None:
    """Why a subscription cannot be cancelled at Microsoft on `today`: new commerce only, within 7 days."""
    if sub.is_azure_plan or not sub.is_new_commerce:
        return _(
            "Only new-commerce licence subscriptions are cancelled through the portal; cancel this one in Partner Center."
        )
    end = cancellation_window_end(sub)
    if end is None:
        return _(
            "Microsoft has not reported when this subscription's term started, so its cancellation window is unknown."
        )
    if not can_cancel(sub, today):
        return _(
            "Microsoft accepts cancellations only within 7 days of a purchase or renewal; this subscription's "
            "window ended on %(date)s. Suspend it instead, or turn auto-renew off in Partner Center so it ends "
            "with its term."
        ) % {"date": formats.date_format(end, "DATE_FORMAT")}
    return None
