"""API v1: subscriptions, suspend and reactivate — the access matrix, exact answers, audit rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from partner_portal.models import AuditEvent
from subscriptions.models import Subscription, SubscriptionChange, SubscriptionQuantityChange
from tests.conftest import Tenant
from tests.factories.subscriptions import SubscriptionFactory, azure_plan

URL = "/api/v1/subscriptions/"


def test_anonymous_gets_nothing(tenant: Tenant, client) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    assert client.get(URL).status_code in (401, 403)
    assert client.post(f"{URL}{sub.pk}/suspend/", {"reason": "x"}).status_code in (401, 403)
    assert Subscription.objects.get(pk=sub.pk).status == "active"


def test_staff_list_is_scoped_and_costs_a_fixed_number_of_queries(
    tenant: Tenant, other_tenant: Tenant, api_for, django_assert_max_num_queries
) -> None:
    mine = [SubscriptionFactory(customer=tenant.customer) for _ in range(3)]
    SubscriptionFactory(customer=other_tenant.customer)
    client = api_for(tenant.agent)
    with django_assert_max_num_queries(6):
        answer = client.get(URL)
    assert answer.status_code == 200
    assert sorted(r["id"] for r in answer.json()["results"]) == sorted(s.pk for s in mine)
    row = answer.json()["results"][0]
    assert row["unit_cost"] == "28.8000"
    assert row["status"] == "active"
    for _ in range(10):
        SubscriptionFactory(customer=tenant.customer)
    with django_assert_max_num_queries(6):
        assert len(client.get(URL).json()["results"]) == 13


def test_list_filters_are_read_and_a_bad_one_is_refused_with_its_field(tenant: Tenant, api_for) -> None:
    active = SubscriptionFactory(customer=tenant.customer)
    suspended = SubscriptionFactory(customer=tenant.other_customer)
    Subscription.objects.filter(pk=suspended.pk).update(status="suspended")
    client = api_for(tenant.agent)
    assert [r["id"] for r in client.get(URL, {"status": "suspended"}).json()["results"]] == [suspended.pk]
    assert [r["id"] for r in client.get(URL, {"customer": tenant.customer.pk}).json()["results"]] == [active.pk]
    refused = client.get(URL, {"status": "paused", "customer": "x"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert set(refused.json()["fields"]) == {"status", "customer"}


def test_other_partner_gets_404(tenant: Tenant, other_tenant: Tenant, api_for) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    client = api_for(other_tenant.admin)
    assert client.get(f"{URL}{sub.pk}/").status_code == 404
    assert client.post(f"{URL}{sub.pk}/suspend/", {"reason": "x"}).status_code == 404
    assert client.patch(f"{URL}{sub.pk}/", {"product": "Hijacked"}).status_code == 404
    assert Subscription.objects.get(pk=sub.pk).status == "active"


def test_customer_user_reads_own_customers_subscriptions_only_without_cost(tenant: Tenant, api_for) -> None:
    own = SubscriptionFactory(customer=tenant.customer)
    other = SubscriptionFactory(customer=tenant.other_customer)
    client = api_for(tenant.customer_member)
    answer = client.get(URL)
    assert [r["id"] for r in answer.json()["results"]] == [own.pk]
    assert "unit_cost" not in answer.json()["results"][0]
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    assert client.post(f"{URL}{own.pk}/suspend/", {"reason": "x"}).status_code == 403
    assert client.patch(f"{URL}{own.pk}/", {"quantity": 99}).status_code == 403
    assert Subscription.objects.get(pk=own.pk).quantity == 10


def test_agent_cannot_suspend(tenant: Tenant, api_for) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    answer = api_for(tenant.agent).post(f"{URL}{sub.pk}/suspend/", {"reason": "overdue"})
    assert answer.status_code == 403
    assert Subscription.objects.get(pk=sub.pk).status == "active"
    assert not SubscriptionChange.objects.exists()


def test_finance_suspends_with_a_reason_and_it_is_audited(tenant: Tenant, api_for, on_commit) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    client = api_for(tenant.finance)
    assert client.post(f"{URL}{sub.pk}/suspend/", {}).json()["fields"] == {"reason": ["This field is required."]}
    with on_commit():  # the push scheduled after commit runs when this block ends (tasks run eagerly)
        answer = client.post(f"{URL}{sub.pk}/suspend/", {"reason": "Invoice 30 days overdue"})
    assert answer.status_code == 202
    assert answer.json()["status"] == "suspension_pending"  # until Microsoft confirms
    body = client.get(f"{URL}{sub.pk}/").json()
    # The record-only backend confirms without calling out.
    assert (body["status"], body["suspension_source"]) == ("suspended", "manual")
    assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [
        ("suspension_pending", "suspended"), ("active", "suspension_pending"),
    ]  # fmt: skip
    assert body["history"][1]["actor"] == tenant.finance.email
    assert body["history"][1]["reason"] == "Invoice 30 days overdue"
    (change,) = body["changes"]
    assert (change["state"], change["attempts"], change["source"]) == ("confirmed", 1, "manual")
    requested = AuditEvent.objects.get(action="subscription.suspension_requested")
    assert (requested.actor, requested.target_id, requested.data["reason"]) == (
        tenant.finance, str(sub.pk), "Invoice 30 days overdue",
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="subscription.suspended", target_id=str(sub.pk)).count() == 1

    again = client.post(f"{URL}{sub.pk}/suspend/", {"reason": "again"})
    assert again.status_code == 409
    assert again.json() == {
        "detail": "The subscription is already suspended or its suspension is pending.",
        "code": "subscription_status_not_allowed",
        "fields": {},
    }

    with on_commit():
        back = client.post(f"{URL}{sub.pk}/reactivate/", {"reason": "Paid"})
    assert back.status_code == 202
    assert back.json()["status"] == "reactivation_pending"
    assert client.get(f"{URL}{sub.pk}/").json()["status"] == "active"


def test_cancelled_cannot_be_suspended(tenant: Tenant, api_for) -> None:
    sub = SubscriptionFactory(customer=tenant.customer, status=Subscription.Status.CANCELLED)
    answer = api_for(tenant.admin).post(f"{URL}{sub.pk}/suspend/", {"reason": "x"})
    assert (answer.status_code, answer.json()) == (
        409,
        {"detail": "The subscription is cancelled.", "code": "subscription_status_not_allowed", "fields": {}},
    )


def test_azure_plan_stays_pending_with_the_manual_step(tenant: Tenant, api_for) -> None:
    plan = azure_plan(customer=tenant.customer)
    body = api_for(tenant.admin).post(f"{URL}{plan.pk}/suspend/", {"reason": "overdue"}).json()
    assert (body["status"], body["is_azure_plan"]) == ("suspension_pending", True)
    assert body["changes"][0]["state"] == "needs_manual_step"
    assert body["changes"][0]["last_error"] == "Azure plan: suspend in Azure Resource Manager"


def test_create_and_patch_go_through_the_services(tenant: Tenant, other_tenant: Tenant, api_for) -> None:
    client = api_for(tenant.finance)
    payload = {
        "customer": tenant.customer.pk, "product": "Microsoft 365 E5", "microsoft_subscription_id": "sub-e5-1",
        "quantity": 12, "billing_cycle": "annual", "unit_price": "57.00", "unit_cost": "45.60",
        "start_date": "2026-01-01", "status": "suspended",
    }  # fmt: skip
    created = client.post(URL, payload)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["quantity"], body["unit_price"], body["billing_cycle"]) == (
        "active", 12, "57.0000", "annual",
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="subscription.created", target_id=str(body["id"])).count() == 1
    assert (
        client.post(URL, payload).json()["detail"] == "Another subscription already has this Microsoft subscription ID."
    )
    foreign = client.post(URL, {**payload, "customer": other_tenant.customer.pk, "microsoft_subscription_id": ""})
    assert foreign.status_code == 400
    assert "customer" in foreign.json()["fields"]

    assert client.patch(f"{URL}{body['id']}/", {"status": "active"}).status_code == 400
    patched = client.patch(f"{URL}{body['id']}/", {"quantity": 15, "unit_price": "55.00"})
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["quantity"], patched.json()["unit_price"]) == (15, "55.0000")
    history = list(SubscriptionQuantityChange.objects.filter(subscription_id=body["id"]).order_by("effective_on"))
    assert next((c.effective_on, c.quantity) for c in history) == (dt.date(2026, 1, 1), 12)
    assert history[-1].quantity == 15
    assert Subscription.objects.get(pk=body["id"]).unit_price == Decimal("55.0000")


@pytest.mark.parametrize("role", ["customer_admin", "agent"])
def test_refused_writers_change_nothing(tenant: Tenant, api_for, role: str) -> None:
    user = tenant.customer_admin if role == "customer_admin" else tenant.agent
    answer = api_for(user).post(
        URL, {"customer": tenant.customer.pk, "product": "X", "unit_price": "1.00", "start_date": "2026-01-01"}
    )
    assert answer.status_code == 403
    assert not Subscription.objects.exists()
