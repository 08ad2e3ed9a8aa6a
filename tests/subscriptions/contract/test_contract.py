"""Microsoft's documented example answers, verbatim (see README.md), fed to the real client."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from subscriptions.errors import PartnerCenterTransientError
from subscriptions.partner_center import Credentials, PartnerCenterClient, field
from subscriptions.services.answers import microsoft_status
from tests.fakes.partner_center import FakePartnerCenter

HERE = Path(__file__).parent
CUSTOMER = "4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04"


def example(name: str) -> Any:
    return json.loads((HERE / name).read_text())


def _client(**kwargs: Any) -> PartnerCenterClient:
    credentials = Credentials(cloud="global", aad_tenant_id="tenant-1", application_id="app-1", secret="s")
    return PartnerCenterClient(credentials=credentials, **kwargs)


@pytest.mark.parametrize(
    ("name", "subscription_id", "etag", "auto_renew"),
    [
        ("get-a-subscription-by-id.json", "A356AC8C-E310-44F4-BF85-C7F29044AF99",
         "eyJpZCI6ImEzNTZhYzhjLWUzMTAtNDRmNC1iZjg1LWM3ZjI5MDQ0YWY5OSIsInZlcnNpb24iOjJ9", False),
        ("get-an-add-on-subscription-by-id.json", "968BA1CF-C146-4ADF-A300-308DCF718EEE",
         "eyJpZCI6Ijk2OGJhMWNmLWMxNDYtNGFkZi1hMzAwLTMwOGRjZjcxOGVlZSIsInZlcnNpb24iOjF9", True),
    ],
)  # fmt: skip
def test_the_etag_is_read_from_attributes_and_sent_as_if_match(
    partner_center: FakePartnerCenter, name: str, subscription_id: str, etag: str, auto_renew: bool
) -> None:
    partner_center.enqueue("GET", subscription_id, 200, body=example(name))
    partner_center.enqueue("PATCH", subscription_id, 200, body=example("suspend-a-subscription-response.json"))
    client = _client()
    resource, read = client.subscription_get(customer_tenant_id=CUSTOMER, subscription_id=subscription_id)
    assert read == etag
    assert (field(resource, "status"), field(resource, "autoRenewEnabled")) == ("active", auto_renew)
    partner_center.enqueue("GET", subscription_id, 200, body=example(name))
    answer = client.subscription_status_set(
        customer_tenant_id=CUSTOMER, subscription_id=subscription_id, status="suspended", request_id="rid-1"
    )
    (patch,) = partner_center.patches(subscription_id)
    assert patch.headers["If-Match"] == etag
    assert patch.json["status"] == "suspended"
    assert patch.json["attributes"]["etag"] == etag
    # The documented answer to the PATCH spells its keys in PascalCase: still read as suspended.
    assert microsoft_status(answer) == "suspended"
    assert field(answer["subscription"], "autoRenewEnabled") is False


def test_the_documented_term_dates_are_read(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue(
        "GET", "A356AC8C-E310-44F4-BF85-C7F29044AF99", 200, body=example("get-a-subscription-by-id.json")
    )
    resource, _etag = _client().subscription_get(
        customer_tenant_id=CUSTOMER, subscription_id="A356AC8C-E310-44F4-BF85-C7F29044AF99"
    )
    assert (field(resource, "effectiveStartDate"), field(resource, "commitmentEndDate")) == (
        "2016-05-10T00:00:00Z",
        "9999-12-10T00:00:00Z",
    )


def test_the_documented_customer_list_is_read(partner_center: FakePartnerCenter) -> None:
    partner_center.enqueue("GET", re.compile(r"^/v1/customers$"), 200, body=example("get-a-list-of-customers.json"))
    customers = list(_client().customers_list(page_size=40))
    assert [c["id"] for c in customers] == [
        "b44bb1fb-c595-45b0-9e09-d657365580bf",
        "45c44870-ef77-4fdd-b6fe-3dacb075cff2",
    ]
    assert customers[0]["companyProfile"]["companyName"] == "companyName"


def test_the_documented_next_link_and_continuation_token_are_followed(partner_center: FakePartnerCenter) -> None:
    path = re.compile(r"^/v1/invoices/unbilled/lineitems$")
    partner_center.enqueue("GET", path, 200, body=example("unbilled-lineitems-page-1.json"))
    partner_center.enqueue("GET", path, 200, body=example("unbilled-lineitems-page-2.json"))
    client = _client()
    url = f"{client.api_url}/v1/invoices/unbilled/lineitems?provider=onetime&size=2000"
    items = list(client._collection(url, what="listing", correlation_id="c-1"))
    assert [i["usageDate"] for i in items] == ["2019-01-01T00:00:00Z", "2019-01-02T00:00:00Z", "2019-01-02T00:00:00Z"]
    first, second = partner_center.calls("GET")
    assert "MS-ContinuationToken" not in first.headers
    assert second.headers["MS-ContinuationToken"] == "AQAAAA=="
    assert second.query["seekOperation"] == "Next"


def test_the_documented_429_is_waited_out_for_its_retry_after(partner_center: FakePartnerCenter) -> None:
    sub = "A356AC8C-E310-44F4-BF85-C7F29044AF99"
    partner_center.enqueue("GET", sub, 429, body=example("api-throttling-429.json"), headers={"Retry-After": "57"})
    with pytest.raises(PartnerCenterTransientError) as raised:
        _client().subscription_get(customer_tenant_id=CUSTOMER, subscription_id=sub)
    assert (raised.value.retry_after, raised.value.description) == (
        57.0,
        "Rate limit is exceeded. Try again in 57 seconds.",
    )
