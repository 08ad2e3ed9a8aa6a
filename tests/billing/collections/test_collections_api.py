"""API v1: collections/policy/, notices/, collection-runs/ — the access matrix and the shapes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing.collections.models import CollectionPolicy
from billing.collections.services import collection_policy_get
from partner_portal import clock
from tests.factories.collections import DUE, invoice_due, run_on

pytestmark = pytest.mark.django_db

POLICY_URL = "/api/v1/collections/policy/"
NEW_POLICY = {
    "steps": [{"offset_days": 5, "action": "remind"}, {"offset_days": -2, "action": "remind"},
              {"offset_days": 20, "action": "final_notice"}, {"offset_days": 40, "action": "suspend"}],
    "min_amount": "25.00", "grace_days": 2, "suspend_scope": "all", "reactivate_automatically": False,
}  # fmt: skip


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)):
        yield


def test_staff_read_the_policy(tenant, api_for) -> None:
    for user in (tenant.admin, tenant.finance, tenant.agent):
        response = api_for(user).get(POLICY_URL)
        assert response.status_code == 200
    assert response.json() == {
        "steps": [{"offset_days": -3, "action": "remind"}, {"offset_days": 0, "action": "remind"},
                  {"offset_days": 7, "action": "remind"}, {"offset_days": 14, "action": "remind"},
                  {"offset_days": 21, "action": "final_notice"}, {"offset_days": 30, "action": "suspend"}],
        "min_amount": "10.00", "min_amounts": {}, "grace_days": 0, "suspend_scope": "overdue_invoices", "reactivate_automatically": True,
        "updated_at": response.json()["updated_at"],
    }  # fmt: skip


def test_customers_and_strangers_cannot_read_the_policy(tenant, api_for) -> None:
    assert api_for(tenant.customer_admin).get(POLICY_URL).status_code == 403
    assert APIClient().get(POLICY_URL).status_code in (401, 403)


def test_a_partner_admin_replaces_the_policy(tenant, other_tenant, api_for) -> None:
    response = api_for(tenant.admin).put(POLICY_URL, NEW_POLICY, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [s["offset_days"] for s in body["steps"]] == [-2, 5, 20, 40]
    assert (body["min_amount"], body["grace_days"], body["suspend_scope"]) == ("25.00", 2, "all")
    policy = CollectionPolicy.objects.get(partner=tenant.partner)
    assert (policy.min_amount, policy.updated_by) == (Decimal("25.00"), tenant.admin)
    # the other partner's policy is its own
    assert collection_policy_get(partner=other_tenant.partner).min_amount == Decimal("10.00")


@pytest.mark.parametrize("role", ["finance", "agent", "customer_admin"])
def test_only_partner_admins_change_the_policy(tenant, api_for, role) -> None:
    collection_policy_get(partner=tenant.partner)
    response = api_for(getattr(tenant, role)).put(POLICY_URL, NEW_POLICY, format="json")
    assert response.status_code == 403
    assert CollectionPolicy.objects.get(partner=tenant.partner).min_amount == Decimal("10.00")


def test_an_invalid_policy_answers_errors_per_field(tenant, api_for) -> None:
    collection_policy_get(partner=tenant.partner)
    bad = {**NEW_POLICY, "steps": [{"offset_days": 30, "action": "suspend"}, {"offset_days": 30, "action": "remind"}]}
    response = api_for(tenant.admin).put(POLICY_URL, bad, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"steps": [
        "Two steps fall on the same day (30).",
        "Suspension must be the last step: every reminder and notice comes before it.",
    ]}  # fmt: skip
    response = api_for(tenant.admin).put(
        POLICY_URL, {**NEW_POLICY, "min_amount": "-1", "steps": [{"offset_days": 3, "action": "call"}]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"min_amount", "steps"}
    assert CollectionPolicy.objects.get(partner=tenant.partner).min_amount == Decimal("10.00")


def _notices(tenant):
    mine = invoice_due(tenant.customer, DUE, "100.00")
    theirs = invoice_due(tenant.other_customer, DUE, "100.00")
    run_on(tenant.partner, 7)
    return mine, theirs


def test_staff_list_every_notice_of_their_partner(tenant, other_tenant, api_for, django_assert_max_num_queries) -> None:
    mine, theirs = _notices(tenant)
    invoice_due(other_tenant.customer, DUE, "100.00")
    run_on(other_tenant.partner, 7)
    client = api_for(tenant.finance)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/notices/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert sorted(r["invoice"] for r in rows) == sorted([mine.pk, theirs.pk])
    row = next(r for r in rows if r["invoice"] == mine.pk)
    assert row["step"] == {"offset_days": 7, "action": "remind"}
    assert (row["invoice_number"], row["status"], row["amount_due"], row["next_action"], row["next_action_date"]) == (
        mine.number, "pending", "100.00", "remind", "2026-12-14",
    )  # fmt: skip
    assert client.get(f"/api/v1/notices/?invoice={mine.pk}").json()["results"][0]["invoice"] == mine.pk


def test_a_customer_sees_only_its_own_notices(tenant, api_for) -> None:
    mine, theirs = _notices(tenant)
    client = api_for(tenant.customer_member)
    rows = client.get("/api/v1/notices/").json()["results"]
    assert [r["invoice"] for r in rows] == [mine.pk]
    their_notice = theirs.notices.get()
    assert client.get(f"/api/v1/notices/{their_notice.pk}/").status_code == 404
    assert client.get(f"/api/v1/notices/{mine.notices.get().pk}/").status_code == 200


def test_another_partner_sees_no_notice(tenant, other_tenant, api_for) -> None:
    mine, _theirs = _notices(tenant)
    client = api_for(other_tenant.admin)
    assert client.get("/api/v1/notices/").json()["results"] == []
    assert client.get(f"/api/v1/notices/{mine.notices.get().pk}/").status_code == 404


def test_staff_list_runs_and_customers_cannot(tenant, other_tenant, api_for) -> None:
    _notices(tenant)
    run = run_on(tenant.partner, 8)
    response = api_for(tenant.agent).get("/api/v1/collection-runs/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["run_date"] for r in rows] == ["2026-12-08", "2026-12-07"]
    assert rows[1]["details"]["notices_queued"] == 2
    assert api_for(tenant.agent).get(f"/api/v1/collection-runs/{run.pk}/").json()["status"] == "done"
    assert api_for(tenant.customer_admin).get("/api/v1/collection-runs/").status_code == 403
    assert api_for(other_tenant.admin).get(f"/api/v1/collection-runs/{run.pk}/").status_code == 404
