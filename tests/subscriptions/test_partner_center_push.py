"""Pushing a change through the real client to the stand-in: what staff see."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import translation

from partner_portal.models import AuditEvent
from subscriptions.models import Subscription, SubscriptionChange, SubscriptionStatusEvent
from subscriptions.services import subscription_change_push, subscription_reactivate, subscription_suspend
from tests.conftest import Tenant
from tests.factories.subscriptions import SubscriptionFactory
from tests.fakes import partner_center_shapes as shapes
from tests.fakes.partner_center import FakePartnerCenter

SUB = "a1b2c3d4-0000-4000-8000-000000000001"
GONE_EN = (
    "Microsoft has no subscription with this ID for this customer (error 20003): it was deleted or moved. "
    "The portal marks it as deleted at Microsoft; check the customer in Partner Center."
)


def _pending_change(tenant: Tenant, partner_center: FakePartnerCenter, django_capture_on_commit_callbacks):
    partner_center.connect(tenant.partner)
    sub = SubscriptionFactory(customer=tenant.customer, microsoft_subscription_id=SUB)
    with django_capture_on_commit_callbacks(execute=False):
        change = subscription_suspend(subscription=sub, reason="overdue", actor=tenant.finance)
    assert change is not None
    return sub, change


def test_push_confirms_with_microsofts_answer(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks
) -> None:
    sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    etag = partner_center.subscription(SUB, customer=str(tenant.customer.tenant_id))["attributes"]["etag"]
    change = subscription_change_push(change_id=change.pk)
    assert change.state == SubscriptionChange.State.CONFIRMED
    assert change.microsoft_response["subscription"]["status"] == "suspended"
    (patch,) = partner_center.patches(SUB)
    assert patch.path == f"/v1/customers/{tenant.customer.tenant_id}/subscriptions/{SUB}"
    assert patch.headers["MS-RequestId"] == str(change.request_id)
    assert patch.headers["If-Match"] == etag
    sub = Subscription.objects.get(pk=sub.pk)
    assert (sub.status, sub.microsoft_status) == (Subscription.Status.SUSPENDED, "suspended")
    assert (sub.term_start_date, sub.commitment_end_date, sub.term) == (dt.date(2026, 1, 5), dt.date(2027, 1, 4), "P1Y")
    assert (sub.auto_renew_enabled, sub.auto_renew_before_suspension) == (False, True)
    event = SubscriptionStatusEvent.objects.filter(subscription=sub).order_by("-pk").first()
    assert event is not None
    assert event.source == "partner_center"
    assert event.reason == (
        "Confirmed by Microsoft. Auto-renew is off at Microsoft while the subscription is suspended; "
        "reactivating it turns auto-renew back on."
    )


def test_reactivation_turns_auto_renew_back_on_as_it_was(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks
) -> None:
    sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    subscription_change_push(change_id=change.pk)
    with django_capture_on_commit_callbacks(execute=False):
        change = subscription_reactivate(subscription=Subscription.objects.get(pk=sub.pk), reason="paid", actor=None)
    assert change is not None
    change = subscription_change_push(change_id=change.pk)
    assert change.state == "confirmed"
    suspend, reactivate, auto_renew = partner_center.patches(SUB)
    assert (suspend.json["status"], reactivate.json["status"]) == ("suspended", "active")
    assert (auto_renew.json["status"], auto_renew.json["autoRenewEnabled"]) == ("active", True)
    # If-Match carries the ETag of the reactivated resource (version 3: created, suspended, reactivated).
    assert auto_renew.headers["If-Match"] == shapes.etag(SUB, 3)
    assert partner_center.subscription(SUB)["attributes"]["etag"] == shapes.etag(SUB, 4)
    assert len({p.headers["MS-CorrelationId"] for p in (reactivate, auto_renew)}) == 1
    assert partner_center.subscription(SUB)["autoRenewEnabled"] is True
    sub = Subscription.objects.get(pk=sub.pk)
    assert (sub.status, sub.auto_renew_enabled, sub.auto_renew_before_suspension, sub.suspended_at) == (
        "active",
        True,
        None,
        None,
    )
    event = SubscriptionStatusEvent.objects.filter(subscription=sub).order_by("-pk").first()
    assert event is not None
    assert event.reason == "Confirmed by Microsoft. Auto-renew turned back on, as it was before the suspension."


def test_auto_renew_that_was_off_stays_off(tenant: Tenant, partner_center, django_capture_on_commit_callbacks) -> None:
    sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    partner_center.add_subscription(str(tenant.customer.tenant_id), SUB, autoRenewEnabled=False)
    subscription_change_push(change_id=change.pk)
    with django_capture_on_commit_callbacks(execute=False):
        change = subscription_reactivate(subscription=Subscription.objects.get(pk=sub.pk), reason="paid", actor=None)
    assert change is not None
    subscription_change_push(change_id=change.pk)
    assert [p.json["status"] for p in partner_center.patches(SUB)] == ["suspended", "active"]
    assert partner_center.subscription(SUB)["autoRenewEnabled"] is False
    event = SubscriptionStatusEvent.objects.filter(subscription=sub).order_by("-pk").first()
    assert event is not None
    assert event.reason == "Confirmed by Microsoft"


def test_a_20003_fails_the_change_at_once_and_marks_the_subscription_deleted_at_microsoft(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks, client_for
) -> None:
    sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    partner_center.enqueue("GET", SUB, 404, body=shapes.error("20003", f"Subscription with ID {SUB} not found."))
    change = subscription_change_push(change_id=change.pk)
    assert (change.state, change.attempts, change.last_error) == ("failed", 1, GONE_EN)
    assert change.microsoft_response["error"] == {
        "status": 404,
        "code": "20003",
        "description": f"Subscription with ID {SUB} not found.",
    }
    sub = Subscription.objects.get(pk=sub.pk)
    assert (sub.status, sub.microsoft_status) == (Subscription.Status.SUSPENSION_PENDING, "deleted")
    assert AuditEvent.objects.filter(action="subscription.change_failed", target_id=str(sub.pk)).count() == 1
    assert len(partner_center.calls("GET")) == 1  # not retried
    page = client_for(tenant.finance).get(reverse("subscription_detail", args=[sub.pk])).content.decode()
    assert "Microsoft no longer has this subscription." in page
    assert GONE_EN in page


def test_refusals_are_explained_in_the_partners_language(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks
) -> None:
    tenant.partner.locale = "ru"
    tenant.partner.save(update_fields=["locale"])
    _sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    partner_center.enqueue(
        "PATCH", SUB, 400, body=shapes.error("800096", "Can't update the status for this subscription")
    )
    change = subscription_change_push(change_id=change.pk)
    with translation.override("ru"):
        expected = translation.gettext(
            "Microsoft does not allow the status of this subscription to be changed (error 800096), "
            "for example because of its offer or its term. Check the subscription in Partner Center."
        )
    assert expected.startswith("Microsoft не позволяет")
    assert (change.state, change.last_error) == ("failed", expected)


def test_after_an_answer_the_next_attempt_sends_a_new_request_id(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks, settings
) -> None:
    settings.PARTNER_CENTER_CALL_TRIES = 1
    _sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    first_id = str(change.request_id)
    partner_center.enqueue("PATCH", re.compile(SUB), 500, body=shapes.error("800003", "Unexpected service error"))
    change = subscription_change_push(change_id=change.pk)
    assert (change.state, change.attempts) == ("pending", 1)
    assert "HTTP 500" in change.last_error
    assert str(change.request_id) != first_id
    change = subscription_change_push(change_id=change.pk)
    assert change.state == "confirmed"
    first, second = partner_center.patches(SUB)
    assert first.headers["MS-RequestId"] == first_id
    assert second.headers["MS-RequestId"] == str(change.request_id)
    assert first.headers["MS-CorrelationId"] != second.headers["MS-CorrelationId"]


def test_after_a_time_out_the_next_attempt_sends_the_same_request_id(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks, settings
) -> None:
    settings.PARTNER_CENTER_CALL_TRIES = 1
    _sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    first_id = str(change.request_id)
    partner_center.enqueue("PATCH", re.compile(SUB), 200, body={}, delay=1.5)
    change = subscription_change_push(change_id=change.pk)
    assert (change.state, str(change.request_id)) == ("pending", first_id)
    change = subscription_change_push(change_id=change.pk)
    assert change.state == "confirmed"
    assert [p.headers["MS-RequestId"] for p in partner_center.patches(SUB)] == [first_id, first_id]


def test_a_germany_partner_is_never_sent(tenant: Tenant, partner_center, django_capture_on_commit_callbacks) -> None:
    tenant.partner.cloud = "germany"
    tenant.partner.save(update_fields=["cloud"])
    _sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    change = subscription_change_push(change_id=change.pk)
    assert change.state == "failed"
    assert change.last_error.startswith("Microsoft Cloud Germany closed on 29 October 2021")
    assert partner_center.requests == []


def test_without_an_account_the_change_fails_with_a_clear_message(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks
) -> None:
    sub = SubscriptionFactory(customer=tenant.customer, microsoft_subscription_id=SUB)
    with django_capture_on_commit_callbacks(execute=False):
        change = subscription_suspend(subscription=sub, reason="overdue", actor=None)
    assert change is not None
    change = subscription_change_push(change_id=change.pk)
    assert (change.state, change.last_error) == ("failed", "No Partner Center account is set up for this partner.")
    assert partner_center.requests == []


def test_every_explained_code_reads_in_english_and_russian() -> None:
    from subscriptions.partner_center.codes import STAFF_MESSAGES

    for code, make in STAFF_MESSAGES.items():
        with translation.override("en"):
            english = make()
        with translation.override("ru"):
            russian = make()
        assert code in english
        assert code in russian
        assert russian != english
