"""The real Partner Center client (msal + httpx) over loopback TLS against the stand-in."""

from __future__ import annotations

import base64
import json
import re
import uuid

import httpx
import pytest

from subscriptions.errors import (
    PartnerCenterCloudClosed,
    PartnerCenterConflict,
    PartnerCenterGone,
    PartnerCenterPermanentError,
    PartnerCenterTransientError,
)
from subscriptions.partner_center import Credentials, PartnerCenterClient, authority_url
from tests.fakes import partner_center_shapes as shapes
from tests.fakes.partner_center import FakePartnerCenter

CUSTOMER_TENANT = "0f6a8d8e-1c3b-4a5e-9b7d-2e4f6a8c0b1d"
SUB = "a1b2c3d4-0000-4000-8000-000000000001"
REQUEST_ID = "5d0c7a52-0d3a-4d7b-9a51-6f0d2f0b6e11"
TENANT = "11111111-2222-3333-4444-555555555555"
APP = "66666666-7777-8888-9999-000000000000"


def _client(fake: FakePartnerCenter, cloud: str = "global", **kwargs: object) -> PartnerCenterClient:
    credentials = Credentials(cloud=cloud, aad_tenant_id=TENANT, application_id=APP, secret="s3cret")
    return PartnerCenterClient(credentials=credentials, **kwargs)  # type: ignore[arg-type]


def _suspend(client: PartnerCenterClient) -> dict:
    return client.subscription_status_set(
        customer_tenant_id=CUSTOMER_TENANT, subscription_id=SUB, status="suspended", request_id=REQUEST_ID
    )


def test_success_reads_the_etag_from_attributes_then_patches_with_if_match(partner_center: FakePartnerCenter) -> None:
    etag = partner_center.subscription(SUB)["attributes"]["etag"]
    assert json.loads(base64.b64decode(etag)) == {"id": SUB, "version": 1}
    answer = _suspend(_client(partner_center))
    assert answer["http_status"] == 200
    assert answer["subscription"]["status"] == "suspended"
    assert answer["request_id"] == REQUEST_ID
    get, patch = partner_center.calls()
    assert (get.method, get.path) == ("GET", f"/v1/customers/{CUSTOMER_TENANT}/subscriptions/{SUB}")
    assert (patch.method, patch.path) == ("PATCH", f"/v1/customers/{CUSTOMER_TENANT}/subscriptions/{SUB}")
    assert patch.headers["If-Match"] == etag
    assert patch.headers["MS-RequestId"] == REQUEST_ID
    assert get.headers["MS-RequestId"] != REQUEST_ID  # a read has its own
    assert patch.headers["MS-Contract-Version"] == get.headers["MS-Contract-Version"] == "v1"
    assert patch.headers["Authorization"] == "Bearer fake-token-1"
    assert patch.json["status"] == "suspended"
    assert patch.json["id"] == SUB
    assert patch.json["offerId"] == "CFQ7TTC0LH18:0001"
    assert patch.json["attributes"] == {"etag": etag, "objectType": "Subscription"}
    assert partner_center.subscription(SUB)["status"] == "suspended"
    oidc, token = partner_center.requests[:2]
    assert (oidc.method, oidc.path) == ("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration")
    assert (token.method, token.path) == ("POST", f"/{TENANT}/oauth2/v2.0/token")
    assert {k: token.form[k] for k in ("grant_type", "client_id", "client_secret", "scope")} == {
        "grant_type": "client_credentials", "client_id": APP, "client_secret": "s3cret",
        "scope": "https://api.partnercenter.microsoft.com/.default",
    }  # fmt: skip


def test_one_correlation_id_per_operation(partner_center: FakePartnerCenter) -> None:
    answer = _suspend(_client(partner_center))
    get, patch = partner_center.calls()
    assert get.headers["MS-CorrelationId"] == patch.headers["MS-CorrelationId"] == answer["correlation_id"]
    _client(partner_center).subscription_status_set(
        customer_tenant_id=CUSTOMER_TENANT, subscription_id=SUB, status="active", request_id=str(uuid.uuid4())
    )
    assert partner_center.calls()[2].headers["MS-CorrelationId"] != answer["correlation_id"]


def test_the_token_is_shared_through_the_cache_until_it_expires(partner_center: FakePartnerCenter) -> None:
    _suspend(_client(partner_center))
    _client(partner_center).subscription_status_set(  # another client, as another worker would
        customer_tenant_id=CUSTOMER_TENANT, subscription_id=SUB, status="active", request_id=str(uuid.uuid4())
    )
    assert partner_center.tokens_issued == 1
    assert {r.headers["Authorization"] for r in partner_center.calls()} == {"Bearer fake-token-1"}


def test_already_in_the_wanted_status_sends_no_patch(partner_center: FakePartnerCenter) -> None:
    partner_center.set_status(SUB, "suspended")
    answer = _suspend(_client(partner_center))
    assert answer["already"] is True
    assert partner_center.patches() == []


def test_a_patch_without_if_match_is_refused_by_the_stand_in(partner_center: FakePartnerCenter) -> None:
    url = f"{partner_center.url}/v1/customers/{CUSTOMER_TENANT}/subscriptions/{SUB}"
    body = {**partner_center.subscription(SUB), "status": "suspended"}
    answer = httpx.patch(url, json=body, headers={"Authorization": "Bearer x"}, verify=partner_center.ssl_context())
    assert answer.status_code == 412
    assert "ETag" not in answer.headers
    assert partner_center.subscription(SUB)["status"] == "active"


def test_202_is_followed_by_polling_location(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 202, headers={"Location": "/v1/operations/op-1"})
    partner_center.enqueue("GET", "/v1/operations/op-1", 202)
    answer = _suspend(_client(partner_center))
    assert answer["http_status"] == 200
    assert answer["polled"] == "/v1/operations/op-1"
    assert answer["subscription"]["status"] == "suspended"
    assert [r.path for r in partner_center.calls("GET")][-2:] == ["/v1/operations/op-1", "/v1/operations/op-1"]


def test_a_5xx_answer_is_retried_with_a_new_request_id(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 503, body=shapes.error("800003", "Unexpected service error"))
    answer = _suspend(_client(partner_center))
    assert answer["subscription"]["status"] == "suspended"
    first, second = partner_center.patches(SUB)
    assert first.headers["MS-RequestId"] == REQUEST_ID
    assert second.headers["MS-RequestId"] not in (REQUEST_ID, "")
    assert answer["request_id"] == second.headers["MS-RequestId"]
    assert len({r.headers["MS-CorrelationId"] for r in partner_center.calls()}) == 1  # GET, PATCH 503, PATCH 200


def test_a_time_out_is_retried_with_the_same_request_id(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 200, body={}, delay=1.5)  # longer than the 1 s time-out
    answer = _suspend(_client(partner_center))
    assert answer["subscription"]["status"] == "suspended"
    first, second = partner_center.patches(SUB)
    assert first.headers["MS-RequestId"] == second.headers["MS-RequestId"] == REQUEST_ID


def test_time_outs_on_every_try_are_transient(partner_center: FakePartnerCenter) -> None:
    for _ in range(3):
        partner_center.enqueue("GET", SUB, 200, delay=0.6)
    with pytest.raises(PartnerCenterTransientError, match=r"no answer within 0\.3 s"):
        _suspend(_client(partner_center, timeout=0.3))


def test_429_waits_out_retry_after_and_sends_a_new_request_id(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 429, body=shapes.throttled(1), headers={"Retry-After": "1"})
    _suspend(_client(partner_center))
    refused, accepted = partner_center.patches(SUB)
    assert accepted.at - refused.at >= 1.0
    assert refused.headers["MS-RequestId"] == REQUEST_ID
    assert accepted.headers["MS-RequestId"] != REQUEST_ID


def test_a_long_retry_after_ends_the_attempt_with_the_wait_and_a_new_request_id(
    partner_center: FakePartnerCenter,
) -> None:
    partner_center.enqueue("PATCH", SUB, 429, body=shapes.throttled(57), headers={"Retry-After": "57"})
    with pytest.raises(PartnerCenterTransientError) as raised:
        _suspend(_client(partner_center))
    assert (raised.value.status, raised.value.code, raised.value.retry_after) == (429, "429", 57.0)
    assert raised.value.description == "Rate limit is exceeded. Try again in 57 seconds."
    assert raised.value.next_request_id not in ("", REQUEST_ID)
    assert len(partner_center.patches(SUB)) == 1


@pytest.mark.parametrize(
    ("status", "body", "code", "kind"),
    [
        (404, shapes.error("20003", "Subscription with ID a1b2 not found."), "20003", PartnerCenterGone),
        (400, shapes.error("2011", "Subscription with ID a1b2 and deleted status can't be updated."), "2011",
         PartnerCenterGone),
        (400, shapes.error("800096", "Can't update the status for this subscription"), "800096",
         PartnerCenterPermanentError),
        (403, shapes.error("900115", "Azure plan can't be moved to suspended state since you have one or more "
                                     "Azure Subscriptions in the active state"), "900115", PartnerCenterPermanentError),
    ],
)  # fmt: skip
def test_permanent_errors_are_not_retried(
    partner_center: FakePartnerCenter, status: int, body: dict, code: str, kind: type
) -> None:
    partner_center.enqueue("PATCH", SUB, status, body=body)
    with pytest.raises(kind) as raised:
        _suspend(_client(partner_center))
    assert (raised.value.status, raised.value.code, raised.value.description) == (status, code, body["description"])
    assert raised.value.staff_message != ""
    assert len(partner_center.patches(SUB)) == 1


def test_a_suspended_subscription_refuses_other_changes_with_800091(partner_center: FakePartnerCenter) -> None:
    partner_center.set_status(SUB, "suspended")
    client = _client(partner_center)
    resource, etag = client.subscription_get(customer_tenant_id=CUSTOMER_TENANT, subscription_id=SUB)
    answer = httpx.patch(
        f"{partner_center.url}/v1/customers/{CUSTOMER_TENANT}/subscriptions/{SUB}",
        json={**resource, "quantity": 20}, headers={"Authorization": "Bearer x", "If-Match": etag},
        verify=partner_center.ssl_context(),
    )  # fmt: skip
    assert (answer.status_code, answer.json()["code"]) == (400, "800091")


def test_a_changed_etag_is_read_again_and_sent_once_more(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 412, body=shapes.error("412", "Precondition failed"))
    _suspend(_client(partner_center))
    assert [r.method for r in partner_center.calls()] == ["GET", "PATCH", "GET", "PATCH"]
    first, second = partner_center.patches(SUB)
    assert first.headers["MS-RequestId"] != second.headers["MS-RequestId"]
    assert second.headers["If-Match"] == first.headers["If-Match"]  # the scripted 412 changed nothing
    assert partner_center.subscription(SUB)["status"] == "suspended"


def test_an_etag_changed_at_microsoft_is_answered_2055_and_read_again(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 400, body=shapes.error("2055", "Etag is no longer valid"))
    _suspend(_client(partner_center))
    assert [r.method for r in partner_center.calls()] == ["GET", "PATCH", "GET", "PATCH"]
    assert partner_center.subscription(SUB)["status"] == "suspended"


def test_the_stand_in_answers_2055_to_a_stale_etag(partner_center: FakePartnerCenter) -> None:
    client = _client(partner_center)
    resource, stale = client.subscription_get(customer_tenant_id=CUSTOMER_TENANT, subscription_id=SUB)
    partner_center.set_status(SUB, "active")  # someone touched it in Partner Center: a new ETag
    answer = httpx.patch(
        f"{partner_center.url}/v1/customers/{CUSTOMER_TENANT}/subscriptions/{SUB}",
        json={**resource, "status": "suspended"}, headers={"Authorization": "Bearer x", "If-Match": stale},
        verify=partner_center.ssl_context(),
    )  # fmt: skip
    assert (answer.status_code, answer.json()) == (400, shapes.error("2055", "Etag is no longer valid"))


def test_a_second_changed_etag_is_a_conflict(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("PATCH", SUB, 412)
    partner_center.enqueue("PATCH", SUB, 412)
    with pytest.raises(PartnerCenterConflict):
        _suspend(_client(partner_center))


def test_tls_is_verified_against_the_configured_authorities_only(partner_center: FakePartnerCenter, settings) -> None:
    settings.PARTNER_CENTER_CA_BUNDLE = ""  # certifi's authorities: the test CA is not among them
    with pytest.raises(PartnerCenterTransientError, match="sign-in to Partner Center failed"):
        _suspend(_client(partner_center))
    assert partner_center.calls() == []


# --- clouds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "host", "api", "scope"),
    [
        ("global", "https://login.microsoftonline.com", "https://api.partnercenter.microsoft.com",
         "https://api.partnercenter.microsoft.com/.default"),
        ("us_government", "https://login.microsoftonline.us", "https://api.partnercenter.microsoft.com",
         "https://api.partnercenter.microsoft.com/.default"),
        ("china", "https://login.chinacloudapi.cn", "https://partner.partnercenterapi.microsoftonline.cn",
         "https://partner.partnercenterapi.microsoftonline.cn/.default"),
    ],
)  # fmt: skip
def test_each_cloud_signs_in_and_calls_its_own_hosts(settings, cloud: str, host: str, api: str, scope: str) -> None:
    settings.PARTNER_CENTER_AUTHORITY_URL = settings.PARTNER_CENTER_API_URL = ""
    credentials = Credentials(cloud=cloud, aad_tenant_id="tenant-1", application_id="app", secret="s")
    client = PartnerCenterClient(credentials=credentials)
    assert (client.token_authority, client.api_url, client.scope) == (f"{host}/tenant-1", api, scope)
    settings.PARTNER_CENTER_AUTHORITY_URL = "https://127.0.0.1:9999/"
    assert PartnerCenterClient(credentials=credentials).token_authority == "https://127.0.0.1:9999/tenant-1"
    assert authority_url(cloud) == host


def test_21vianet_asks_its_own_resource_for_a_token(partner_center: FakePartnerCenter) -> None:
    _suspend(_client(partner_center, cloud="china"))
    (token,) = partner_center.token_requests()
    assert token.form["scope"] == "https://partner.partnercenterapi.microsoftonline.cn/.default"
    assert partner_center.subscription(SUB)["status"] == "suspended"


def test_germany_is_refused_before_any_call(partner_center: FakePartnerCenter, settings) -> None:
    with pytest.raises(PartnerCenterCloudClosed) as raised:
        _client(partner_center, cloud="germany")
    assert "closed on 29 October 2021" in raised.value.staff_message
    settings.PARTNER_CENTER_AUTHORITY_URL = ""
    with pytest.raises(PartnerCenterCloudClosed):
        authority_url("germany")
    assert partner_center.requests == []


# --- collections --------------------------------------------------------------------------------


def test_lists_follow_continuation_tokens(partner_center: FakePartnerCenter) -> None:
    tenants = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(5)]
    for i, tid in enumerate(tenants):
        partner_center.add_customer(tid, f"Company {i}")
    for n in range(3):
        partner_center.add_subscription(tenants[0], f"sub-{n}")
    client = _client(partner_center)
    assert [c["companyProfile"]["companyName"] for c in client.customers_list(page_size=2)] == [
        f"Company {i}" for i in range(5)
    ]
    assert [s["id"] for s in client.subscriptions_list(customer_tenant_id=tenants[0])] == ["sub-0", "sub-1", "sub-2"]
    pages = [r for r in partner_center.calls("GET") if r.path == "/v1/customers"]
    assert [r.headers.get("MS-ContinuationToken") for r in pages] == [None, "2", "4"]
    assert len({r.headers["MS-RequestId"] for r in partner_center.calls()}) == len(partner_center.calls())


def test_a_throttled_page_is_waited_out_and_read_again(partner_center: FakePartnerCenter) -> None:
    partner_center.add_customer("00000000-0000-4000-8000-000000000001", "Only")
    partner_center.enqueue("GET", re.compile(r"^/v1/customers$"), 429, body=shapes.throttled(0),
                           headers={"Retry-After": "0"})  # fmt: skip
    assert [c["id"] for c in _client(partner_center).customers_list()] == ["00000000-0000-4000-8000-000000000001"]
