"""The real Partner Center client against a local server that answers like Partner Center."""

from __future__ import annotations

import re
import uuid

import pytest

from partner_portal.models import AuditEvent
from subscriptions.errors import PartnerCenterConflict, PartnerCenterPermanentError, PartnerCenterTransientError
from subscriptions.models import Subscription, SubscriptionChange, SubscriptionStatusEvent
from subscriptions.partner_center import Credentials, PartnerCenterClient, authority_url
from subscriptions.services import subscription_change_push, subscription_suspend
from tests.conftest import Tenant
from tests.factories.subscriptions import SubscriptionFactory
from tests.fakes.partner_center import FakePartnerCenter

CUSTOMER_TENANT = "0f6a8d8e-1c3b-4a5e-9b7d-2e4f6a8c0b1d"
SUB = "a1b2c3d4-0000-4000-8000-000000000001"
REQUEST_ID = "5d0c7a52-0d3a-4d7b-9a51-6f0d2f0b6e11"


def _client(fake: FakePartnerCenter, **kwargs: object) -> PartnerCenterClient:
    credentials = Credentials(
        cloud="global", aad_tenant_id="11111111-2222-3333-4444-555555555555",
        application_id="66666666-7777-8888-9999-000000000000", secret="s3cret",
    )  # fmt: skip
    return PartnerCenterClient(credentials=credentials, **kwargs)  # type: ignore[arg-type]


def _suspend(client: PartnerCenterClient) -> dict:
    return client.subscription_status_set(
        customer_tenant_id=CUSTOMER_TENANT, subscription_id=SUB, status="suspended", request_id=REQUEST_ID
    )


def test_success_reads_the_etag_then_patches_the_resource(partner_center: FakePartnerCenter) -> None:
    etag = partner_center.subscription(SUB)["etag"]
    answer = _suspend(_client(partner_center))
    assert answer["http_status"] == 200
    assert answer["subscription"]["status"] == "suspended"
    get, patch = partner_center.calls()
    assert (get.method, get.path) == ("GET", f"/v1/customers/{CUSTOMER_TENANT}/subscriptions/{SUB}")
    assert (patch.method, patch.path) == ("PATCH", f"/v1/customers/{CUSTOMER_TENANT}/subscriptions/{SUB}")
    assert patch.headers["If-Match"] == etag
    assert patch.headers["MS-RequestId"] == REQUEST_ID
    assert patch.headers["Authorization"] == "Bearer fake-token-1"
    assert patch.json["status"] == "suspended"
    assert patch.json["id"] == SUB
    assert patch.json["offerId"] == "CFQ7TTC0LH18:0001"
    assert partner_center.subscription(SUB)["status"] == "suspended"
    token = partner_center.requests[0]
    assert (token.method, token.path) == ("POST", "/11111111-2222-3333-4444-555555555555/oauth2/token")
    assert token.form == {
        "grant_type": "client_credentials", "client_id": "66666666-7777-8888-9999-000000000000",
        "client_secret": "s3cret", "resource": "https://api.partnercenter.microsoft.com",
    }  # fmt: skip


def test_the_token_is_cached_until_it_expires(partner_center: FakePartnerCenter) -> None:
    client = _client(partner_center)
    _suspend(client)
    client.subscription_status_set(
        customer_tenant_id=CUSTOMER_TENANT, subscription_id=SUB, status="active", request_id=str(uuid.uuid4())
    )
    assert partner_center.tokens_issued == 1


def test_already_in_the_wanted_status_sends_no_patch(partner_center: FakePartnerCenter) -> None:
    partner_center.set_status(SUB, "suspended")
    answer = _suspend(_client(partner_center))
    assert answer["already"] is True
    assert partner_center.patches() == []


def test_202_is_followed_by_polling_location(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 202, headers={"Location": "/v1/operations/op-1"})
    partner_center.enqueue("GET", "/v1/operations/op-1", 202)
    answer = _suspend(_client(partner_center))
    assert answer["http_status"] == 200
    assert answer["polled"] == "/v1/operations/op-1"
    assert answer["subscription"]["status"] == "suspended"
    assert [r.path for r in partner_center.calls("GET")][-2:] == ["/v1/operations/op-1", "/v1/operations/op-1"]


def test_5xx_is_retried_with_the_same_request_id_and_a_new_correlation_id(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 503, body={"code": 500, "description": "Service unavailable"})
    answer = _suspend(_client(partner_center))
    assert answer["subscription"]["status"] == "suspended"
    first, second = partner_center.patches(SUB)
    assert first.headers["MS-RequestId"] == second.headers["MS-RequestId"] == REQUEST_ID
    correlation_ids = {r.headers["MS-CorrelationId"] for r in partner_center.calls()}
    assert len(correlation_ids) == len(partner_center.calls()) == 3  # GET, PATCH 503, PATCH 200


def test_a_time_out_is_retried(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 200, body={}, delay=1.5)  # longer than the 1 s time-out
    answer = _suspend(_client(partner_center))
    assert answer["subscription"]["status"] == "suspended"
    assert len(partner_center.patches(SUB)) == 2


def test_time_outs_on_every_try_are_transient(partner_center: FakePartnerCenter) -> None:
    for _ in range(3):
        partner_center.enqueue("GET", SUB, 200, delay=0.6)
    with pytest.raises(PartnerCenterTransientError, match=r"no answer within 0\.3 s"):
        _suspend(_client(partner_center, timeout=0.3))


def test_429_waits_out_retry_after(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 429, body={"code": 429, "description": "Too many requests"},
                           headers={"Retry-After": "1"})  # fmt: skip
    _suspend(_client(partner_center))
    refused, accepted = partner_center.patches(SUB)
    assert accepted.at - refused.at >= 1.0
    assert accepted.headers["MS-RequestId"] == refused.headers["MS-RequestId"]


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (404, {"code": 20003, "description": "Subscription not found"}, "20003"),
        (400, {"code": 800091, "description": "The subscription status cannot be changed"}, "800091"),
    ],
)
def test_permanent_errors_are_not_retried(
    partner_center: FakePartnerCenter, status: int, body: dict, code: str
) -> None:
    partner_center.enqueue("PATCH", SUB, status, body=body)
    with pytest.raises(PartnerCenterPermanentError) as raised:
        _suspend(_client(partner_center))
    assert (raised.value.status, raised.value.code, raised.value.description) == (status, code, body["description"])
    assert len(partner_center.patches(SUB)) == 1


def test_a_changed_etag_is_read_again_and_sent_once_more(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 412, body={"code": 412, "description": "ETag mismatch"})
    _suspend(_client(partner_center))
    assert [r.method for r in partner_center.calls()] == ["GET", "PATCH", "GET", "PATCH"]
    assert partner_center.subscription(SUB)["status"] == "suspended"


def test_a_second_changed_etag_is_a_conflict(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 412)
    partner_center.enqueue("PATCH", SUB, 412)
    with pytest.raises(PartnerCenterConflict):
        _suspend(_client(partner_center))


@pytest.mark.parametrize(
    ("cloud", "host"),
    [
        ("global", "https://login.microsoftonline.com"),
        ("us_government", "https://login.microsoftonline.us"),
        ("germany", "https://login.microsoftonline.de"),
    ],
)
def test_the_token_comes_from_the_authority_of_the_partners_cloud(settings, cloud: str, host: str) -> None:
    settings.PARTNER_CENTER_AUTHORITY_URL = ""
    credentials = Credentials(cloud=cloud, aad_tenant_id="tenant-1", application_id="app", secret="s")
    client = PartnerCenterClient(credentials=credentials)
    assert client.token_url == f"{host}/tenant-1/oauth2/token"
    assert client.api_url == "https://api.partnercenter.microsoft.com"
    settings.PARTNER_CENTER_AUTHORITY_URL = "http://127.0.0.1:9999/"
    assert PartnerCenterClient(credentials=credentials).token_url == "http://127.0.0.1:9999/tenant-1/oauth2/token"
    assert authority_url(cloud) == host


# --- the service against the fake: what staff see -------------------------------------------------


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
    change = subscription_change_push(change_id=change.pk)
    assert change.state == SubscriptionChange.State.CONFIRMED
    assert change.microsoft_response["subscription"]["status"] == "suspended"
    (patch,) = partner_center.patches(SUB)
    assert patch.path == f"/v1/customers/{tenant.customer.tenant_id}/subscriptions/{SUB}"
    assert patch.headers["MS-RequestId"] == str(change.request_id)
    assert Subscription.objects.get(pk=sub.pk).status == Subscription.Status.SUSPENDED
    event = SubscriptionStatusEvent.objects.filter(subscription=sub).order_by("-pk").first()
    assert event is not None
    assert event.source == "partner_center"
    assert event.reason == "Confirmed by Microsoft"


def test_a_404_fails_the_change_at_once_with_microsofts_description(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks
) -> None:
    sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    partner_center.enqueue("GET", SUB, 404, body={"code": 20003, "description": "Subscription not found"})
    change = subscription_change_push(change_id=change.pk)
    assert (change.state, change.attempts, change.last_error) == ("failed", 1, "Subscription not found")
    assert change.microsoft_response["error"]["code"] == "20003"
    assert Subscription.objects.get(pk=sub.pk).status == Subscription.Status.SUSPENSION_PENDING
    assert AuditEvent.objects.filter(action="subscription.change_failed", target_id=str(sub.pk)).count() == 1
    assert len(partner_center.calls("GET")) == 1  # not retried


def test_a_transient_failure_waits_and_the_same_request_id_goes_again(
    tenant: Tenant, partner_center, django_capture_on_commit_callbacks, settings
) -> None:
    settings.PARTNER_CENTER_CALL_TRIES = 1
    _sub, change = _pending_change(tenant, partner_center, django_capture_on_commit_callbacks)
    partner_center.enqueue("PATCH", re.compile(SUB), 500, body={"code": 500, "description": "Internal error"})
    change = subscription_change_push(change_id=change.pk)
    assert (change.state, change.attempts) == ("pending", 1)
    assert "HTTP 500" in change.last_error
    change = subscription_change_push(change_id=change.pk)
    assert change.state == "confirmed"
    first, second = partner_center.patches(SUB)
    assert first.headers["MS-RequestId"] == second.headers["MS-RequestId"] == str(change.request_id)
    assert first.headers["MS-CorrelationId"] != second.headers["MS-CorrelationId"]


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
