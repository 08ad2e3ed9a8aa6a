"""The minimum overdue amount per currency: 10.00 RUB is not 10.00 USD. The run compares each
invoice's overdue total with the minimum of its currency; the page and the API set them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.collections.errors import CollectionPolicyInvalid
from billing.collections.models import CollectionPolicy
from billing.collections.services import StepInput, collection_policy_update
from partner_portal import clock
from tests.factories import CustomerFactory
from tests.factories.collections import DUE, invoice_due, run_on, steps_sent

pytestmark = pytest.mark.django_db

DEFAULT = [(-3, "remind"), (0, "remind"), (7, "remind"), (14, "remind"), (21, "final_notice"), (30, "suspend")]


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)):
        yield


def _update(partner, min_amounts: dict[str, Decimal]) -> CollectionPolicy:
    return collection_policy_update(
        partner=partner, actor=None, min_amount=Decimal("10.00"), grace_days=0, suspend_scope="overdue_invoices",
        reactivate_automatically=True, steps=[StepInput(o, a) for o, a in DEFAULT], min_amounts=min_amounts,
    )  # fmt: skip


def test_the_run_compares_the_overdue_total_with_the_minimum_of_its_currency(tenant) -> None:
    _update(tenant.partner, {"RUB": Decimal("900.00")})
    rub = CustomerFactory(partner=tenant.partner, name="Rouble Ltd", currency="RUB")
    usd = CustomerFactory(partner=tenant.partner, name="Dollar Ltd", currency="USD")
    rub_invoice = invoice_due(rub, DUE, "500.00")  # 500 RUB: under the RUB minimum of 900
    usd_invoice = invoice_due(usd, DUE, "50.00")  # 50 USD: above the minimum of 10.00 (no USD minimum of its own)
    run = run_on(tenant.partner, 7)
    assert steps_sent(rub_invoice) == []
    assert steps_sent(usd_invoice) == [(7, "remind")]
    reasons = {c["customer"]: c["reason"] for c in run.details["customers"]}
    assert reasons["Rouble Ltd"] == "below_minimum"
    big = invoice_due(rub, DUE, "600.00")  # now 1,100 RUB overdue
    run_on(tenant.partner, 8)
    assert steps_sent(rub_invoice) == [(7, "remind")]
    assert steps_sent(big) == [(7, "remind")]


@pytest.mark.parametrize(
    ("minimums", "message"),
    [
        ({"XYZ": Decimal("5.00")}, "Unknown currency “XYZ”."),
        ({"RUB": Decimal("-1.00")}, "Enter a minimum of zero or more for RUB."),
        ({"JPY": Decimal("10.50")}, "Enter the minimum for JPY with at most its currency's decimal places."),
    ],
)
def test_minimums_per_currency_are_validated(tenant, minimums, message) -> None:
    with pytest.raises(CollectionPolicyInvalid) as refused:
        _update(tenant.partner, minimums)
    assert refused.value.errors == {"min_amounts": [message]}


def _post(**values: str) -> dict[str, str]:
    data = {
        "min_amount": "10.00", "grace_days": "0", "suspend_scope": "overdue_invoices",
        "reactivate_automatically": "on", "steps-TOTAL_FORMS": str(len(DEFAULT)), "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for i, (offset, action) in enumerate(DEFAULT):
        data |= {f"steps-{i}-offset_days": str(offset), f"steps-{i}-action": action}
    return data | values


def test_a_partner_admin_sets_minimums_per_currency_on_the_policy_page(tenant, client_for) -> None:
    client = client_for(tenant.admin)
    response = client.post("/staff/collections/policy/", _post(min_amounts="rub 900.00\nEUR 15"))
    assert response.status_code == 302
    policy = CollectionPolicy.objects.get(partner=tenant.partner)
    assert policy.min_amounts == {"EUR": "15.00", "RUB": "900.00"}
    assert policy.minimum_for("RUB") == Decimal("900.00")
    assert policy.minimum_for("USD") == Decimal("10.00")
    page = client.get("/staff/collections/policy/").content.decode()
    assert "EUR 15.00\nRUB 900.00" in page
    refused = client.post("/staff/collections/policy/", _post(min_amounts="XYZ 5.00"))
    assert refused.status_code == 400
    assert "Unknown currency “XYZ”." in refused.content.decode()
    bad = client.post("/staff/collections/policy/", _post(min_amounts="RUB"))
    assert bad.status_code == 400
    assert "Write each line as a currency and an amount" in bad.content.decode()


def test_the_api_reads_and_replaces_minimums_per_currency(tenant, api_for) -> None:
    body = {
        "steps": [{"offset_days": o, "action": a} for o, a in DEFAULT], "min_amount": "10.00",
        "min_amounts": {"RUB": "900.00"}, "grace_days": 0, "suspend_scope": "all", "reactivate_automatically": True,
    }  # fmt: skip
    client = api_for(tenant.admin)
    response = client.put("/api/v1/collections/policy/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["min_amounts"] == {"RUB": "900.00"}
    assert client.get("/api/v1/collections/policy/").json()["min_amounts"] == {"RUB": "900.00"}
    refused = client.put("/api/v1/collections/policy/", body | {"min_amounts": {"XYZ": "1.00"}}, format="json")
    assert refused.status_code == 400
    assert refused.json()["fields"]["min_amounts"] == ["Unknown currency “XYZ”."]
