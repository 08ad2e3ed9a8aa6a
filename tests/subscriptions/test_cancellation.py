"""Cancelling a new-commerce subscription at Microsoft: only within 7 days of its purchase or renewal."""

from __future__ import annotations

import datetime as dt

import pytest

from partner_portal import clock
from partner_portal.models import AuditEvent
from subscriptions.errors import SubscriptionStatusNotAllowed
from subscriptions.models import Subscription, SubscriptionChange
from subscriptions.services import subscription_cancel, subscription_change_push, subscription_suspend
from tests.conftest import Tenant
from tests.factories.subscriptions import SubscriptionFactory

TODAY = dt.date(2026, 6, 5)
SUB = "c0c0c0c0-0000-4000-8000-000000000001"
ENDED = (
    "Microsoft accepts cancellations only within 7 days of a purchase or renewal; this subscription's window "
    "ended on May 28, 2026. Suspend it instead, or turn auto-renew off in Partner Center so it ends with its term."
)


def _sub(tenant: Tenant, started: dt.date, **kwargs: object) -> Subscription:
    return SubscriptionFactory(
        customer=tenant.customer, microsoft_subscription_id=SUB, term_start_date=started,
        commitment_end_date=started + dt.timedelta(days=364), **kwargs,
    )  # fmt: skip


def test_within_the_window_the_page_cancels_at_microsoft(tenant: Tenant, client_for, partner_center, on_commit) -> None:
    partner_center.connect(tenant.partner)
    partner_center.today = TODAY
    sub = _sub(tenant, dt.date(2026, 6, 1))
    partner_center.add_subscription(str(tenant.customer.tenant_id), SUB, effectiveStartDate="2026-06-01T00:00:00Z")
    client = client_for(tenant.finance)
    with clock.frozen(TODAY):
        page = client.get(f"/staff/subscriptions/{sub.pk}/").content.decode()
        assert "Open until Jun 7, 2026" in page
        assert f"/staff/subscriptions/{sub.pk}/cancel/" in page
        with on_commit():
            answer = client.post(f"/staff/subscriptions/{sub.pk}/cancel/", {"reason": "bought by mistake"})
    assert answer.status_code == 302
    (patch,) = partner_center.patches(SUB)
    assert patch.json["status"] == "deleted"
    sub = Subscription.objects.get(pk=sub.pk)
    assert (sub.status, sub.microsoft_status, sub.end_date) == ("cancelled", "deleted", TODAY)
    assert AuditEvent.objects.filter(action="subscription.cancelled", target_id=str(sub.pk)).count() == 1


def test_after_the_window_the_service_page_and_api_say_why_not(tenant: Tenant, client_for, api_for) -> None:
    sub = _sub(tenant, dt.date(2026, 5, 22))
    with clock.frozen(TODAY):
        with pytest.raises(SubscriptionStatusNotAllowed) as refused:
            subscription_cancel(subscription=sub, reason="too late", actor=tenant.finance)
        assert str(refused.value) == ENDED
        page = client_for(tenant.finance).get(f"/staff/subscriptions/{sub.pk}/").content.decode()
        answer = api_for(tenant.finance).post(f"/api/v1/subscriptions/{sub.pk}/cancel/", {"reason": "too late"})
    assert ENDED.replace("'", "&#x27;") in page
    assert f"/staff/subscriptions/{sub.pk}/cancel/" not in page
    assert (answer.status_code, answer.json()) == (
        409,
        {"detail": ENDED, "code": "subscription_status_not_allowed", "fields": {}},
    )
    assert SubscriptionChange.objects.filter(subscription=sub).count() == 0


def test_legacy_subscriptions_are_not_cancelled_through_the_portal(tenant: Tenant) -> None:
    sub = _sub(tenant, TODAY, offer_id="91FD106F-4B2C-4938-95AC-F54F74E9A239")
    with clock.frozen(TODAY), pytest.raises(SubscriptionStatusNotAllowed) as refused:
        subscription_cancel(subscription=sub, reason="no", actor=None)
    assert str(refused.value) == (
        "Only new-commerce licence subscriptions are cancelled through the portal; cancel this one in Partner Center."
    )


def test_microsoft_refusing_with_900117_is_explained(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks
) -> None:
    partner_center.connect(tenant.partner)
    sub = _sub(tenant, dt.date(2026, 6, 1))  # Microsoft's copy started in January: its window is long gone
    with clock.frozen(TODAY), django_capture_on_commit_callbacks(execute=False):
        change = subscription_cancel(subscription=sub, reason="bought by mistake", actor=None)
    assert change is not None
    change = subscription_change_push(change_id=change.pk)
    assert change.state == "refused"
    assert change.last_error.startswith(
        "Microsoft's cancellation window for this subscription has passed (error 900117)"
    )
    assert change.microsoft_response["error"]["code"] == "900117"
    sub = Subscription.objects.get(pk=sub.pk)
    assert sub.status == "active"  # back to what it was; the refusal is in its history
    event = sub.status_events.order_by("-pk").first()
    assert event is not None
    assert (event.from_status, event.to_status, event.reason) == ("cancellation_pending", "active", change.last_error)
    with django_capture_on_commit_callbacks(execute=False):
        assert subscription_suspend(subscription=sub, reason="overdue", actor=None) is not None


def test_the_api_cancels_within_the_window(tenant: Tenant, api_for, on_commit) -> None:
    sub = _sub(tenant, dt.date(2026, 6, 1))
    with clock.frozen(TODAY), on_commit():
        answer = api_for(tenant.finance).post(f"/api/v1/subscriptions/{sub.pk}/cancel/", {"reason": "mistake"})
    assert answer.status_code == 202
    assert answer.json()["status"] == "cancellation_pending"
    sub.refresh_from_db()
    assert (sub.status, sub.end_date) == ("cancelled", TODAY)  # the record-only backend confirms at once
    change = SubscriptionChange.objects.get(subscription=sub)
    assert (change.wanted_status, change.state) == ("deleted", "confirmed")


def test_customer_users_cannot_cancel(tenant: Tenant, api_for) -> None:
    sub = _sub(tenant, dt.date(2026, 6, 1))
    with clock.frozen(TODAY):
        answer = api_for(tenant.customer_admin).post(f"/api/v1/subscriptions/{sub.pk}/cancel/", {"reason": "x"})
    assert answer.status_code == 403
    assert Subscription.objects.get(pk=sub.pk).status == "active"
