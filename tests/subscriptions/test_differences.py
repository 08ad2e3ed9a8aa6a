"""Differences between the portal and Microsoft: found by the sync, listed for staff, settled by taking
Microsoft's value or pushing the portal's (a status through the change machinery, a quantity by PATCH)."""

from __future__ import annotations

import datetime as dt

import pytest

from partner_portal.models import AuditEvent
from subscriptions.models import Subscription, SubscriptionChange, SubscriptionDifference, SubscriptionQuantityChange
from subscriptions.services import subscription_difference_push, subscription_difference_take
from subscriptions.services.sync import partner_center_sync
from tests.conftest import Tenant
from tests.factories.subscriptions import SubscriptionFactory
from tests.fakes import partner_center_shapes as shapes
from tests.fakes.partner_center import FakePartnerCenter

PAGE = "/staff/subscriptions/differences/"


def _drifted(tenant: Tenant, fake: FakePartnerCenter, **microsoft) -> Subscription:
    """A subscription the portal has heard of before, and Microsoft's copy of it with `microsoft` changed."""
    fake.connect(tenant.partner)
    tid = str(tenant.customer.tenant_id)
    fake.add_customer(tid, tenant.customer.name)
    sub = SubscriptionFactory(
        customer=tenant.customer, product="Microsoft 365 E3", microsoft_subscription_id="sub-drift", quantity=10,
        microsoft_status="active", commitment_end_date=dt.date(2027, 1, 4), auto_renew_enabled=True,
    )  # fmt: skip
    fake.add_subscription(tid, "sub-drift", **{"quantity": 10, **microsoft})
    return sub


def _open(sub: Subscription) -> list[tuple[str, str, str]]:
    return list(
        sub.differences.filter(state="open").order_by("field").values_list("field", "portal_value", "microsoft_value")
    )


def test_the_sync_records_each_difference_once_and_closes_it_when_it_is_gone(tenant: Tenant, partner_center) -> None:
    sub = _drifted(tenant, partner_center, quantity=12, status="suspended", commitmentEndDate="2027-02-04T00:00:00Z",
                   autoRenewEnabled=False)  # fmt: skip
    result = partner_center_sync(partner=tenant.partner)
    assert result.differences_found == 4
    assert _open(sub) == [
        ("auto_renew", "true", "false"),
        ("quantity", "10", "12"),
        ("status", "active", "suspended"),
        ("term_end", "2027-01-04", "2027-02-04"),
    ]
    sub.refresh_from_db()  # nothing of the portal's side was overwritten
    assert (sub.status, sub.quantity, sub.commitment_end_date, sub.auto_renew_enabled) == (
        "active", 10, dt.date(2027, 1, 4), True,
    )  # fmt: skip
    partner_center_sync(partner=tenant.partner)
    assert SubscriptionDifference.objects.count() == 4
    partner_center.add_subscription(str(tenant.customer.tenant_id), "sub-drift", quantity=10, autoRenewEnabled=True,
                                    commitmentEndDate="2027-01-04T00:00:00Z", status="active")  # fmt: skip
    assert partner_center_sync(partner=tenant.partner).differences_found == 0
    assert set(SubscriptionDifference.objects.values_list("state", flat=True)) == {"gone"}


def test_taking_microsofts_quantity_and_status(tenant: Tenant, partner_center) -> None:
    sub = _drifted(tenant, partner_center, quantity=12, status="suspended")
    partner_center_sync(partner=tenant.partner)
    for difference in sub.differences.order_by("field"):
        subscription_difference_take(difference=difference, actor=tenant.finance)
    sub.refresh_from_db()
    assert (sub.status, sub.quantity, sub.suspension_source) == ("suspended", 12, "manual")
    history = SubscriptionQuantityChange.objects.filter(subscription=sub).order_by("effective_on")
    assert list(history.values_list("quantity", flat=True)) == [10, 12]
    event = sub.status_events.get()
    assert (event.from_status, event.to_status, event.source, event.reason, event.actor) == (
        "active", "suspended", "partner_center_sync", "Taken from Microsoft after a sync", tenant.finance,
    )  # fmt: skip
    audits = AuditEvent.objects.filter(action="subscription.difference_resolved").order_by("pk")
    assert [(a.data["field"], a.data["resolution"], a.actor) for a in audits] == [
        ("quantity", "took_microsoft", tenant.finance), ("status", "took_microsoft", tenant.finance),
    ]  # fmt: skip
    assert set(sub.differences.values_list("state", flat=True)) == {"took_microsoft"}
    with pytest.raises(Exception, match="no longer open"):
        subscription_difference_take(difference=sub.differences.first(), actor=tenant.finance)


def test_pushing_the_portals_quantity_patches_it_at_microsoft(tenant: Tenant, partner_center, on_commit) -> None:
    sub = _drifted(tenant, partner_center, quantity=12)
    partner_center_sync(partner=tenant.partner)
    difference = sub.differences.get()
    with on_commit():
        subscription_difference_push(difference=difference, actor=tenant.admin)
    difference.refresh_from_db()
    assert (difference.state, difference.resolved_by, difference.error) == ("pushed", tenant.admin, "")
    (patch,) = partner_center.patches("sub-drift")
    assert patch.json["quantity"] == 10
    assert patch.headers["If-Match"] == shapes.etag("sub-drift", 1)
    assert partner_center.subscription("sub-drift")["quantity"] == 10
    assert Subscription.objects.get(pk=sub.pk).quantity == 10


def test_a_refused_quantity_stays_open_with_microsofts_reason(tenant: Tenant, partner_center, on_commit) -> None:
    sub = _drifted(tenant, partner_center, quantity=12)
    partner_center_sync(partner=tenant.partner)
    partner_center.set_status("sub-drift", "suspended")  # Microsoft refuses changes to a suspended one: 800091
    difference = sub.differences.get()
    with on_commit():
        subscription_difference_push(difference=difference, actor=tenant.admin)
    difference.refresh_from_db()
    assert difference.state == "open"
    assert difference.error.startswith("Microsoft does not accept changes to a subscription while it is suspended")
    assert partner_center.subscription("sub-drift")["quantity"] == 12


def test_pushing_the_portals_status_goes_through_a_reactivation(tenant: Tenant, partner_center, on_commit) -> None:
    sub = _drifted(tenant, partner_center, status="suspended")
    partner_center_sync(partner=tenant.partner)
    with on_commit():
        subscription_difference_push(difference=sub.differences.get(), actor=tenant.admin)
    change = SubscriptionChange.objects.get(subscription=sub)
    assert (change.wanted_status, change.state, change.reason) == (
        "active", "confirmed", "The portal's status sent to Microsoft after a sync",
    )  # fmt: skip
    assert partner_center.subscription("sub-drift")["status"] == "active"
    sub.refresh_from_db()
    assert sub.status == "active"
    assert list(sub.status_events.order_by("pk").values_list("from_status", "to_status")) == [
        ("active", "suspended"), ("suspended", "reactivation_pending"), ("reactivation_pending", "active"),
    ]  # fmt: skip


def test_term_end_cannot_be_pushed(tenant: Tenant, partner_center) -> None:
    sub = _drifted(tenant, partner_center, commitmentEndDate="2027-02-04T00:00:00Z")
    partner_center_sync(partner=tenant.partner)
    with pytest.raises(Exception, match="Microsoft sets the term end"):
        subscription_difference_push(difference=sub.differences.get(), actor=tenant.admin)


def test_the_page_lists_filters_and_settles(tenant: Tenant, other_tenant: Tenant, partner_center, client_for) -> None:
    sub = _drifted(tenant, partner_center, quantity=12, status="suspended")
    partner_center_sync(partner=tenant.partner)
    quantity = sub.differences.get(field="quantity")
    take = f'action="{PAGE}{quantity.pk}/take/"'
    agent = client_for(tenant.agent)
    html = agent.get(PAGE).content.decode()
    assert "<strong>2</strong> differences" in html
    assert take not in html  # agents read only
    html = agent.get(PAGE, {"field": "quantity", "q": "sub-drift"}).content.decode()
    assert "<strong>1</strong> difference" in html
    assert "<td>Quantity</td>" in html
    assert "<td>Status</td>" not in html
    assert agent.post(f"{PAGE}{quantity.pk}/take/").status_code == 403
    assert client_for(other_tenant.admin).post(f"{PAGE}{quantity.pk}/take/").status_code == 404
    finance = client_for(tenant.finance)
    html = finance.get(PAGE).content.decode()
    assert take in html
    assert f'action="{PAGE}{sub.differences.get(field="status").pk}/push/"' in html
    answer = finance.post(f"{PAGE}{quantity.pk}/take/", {"next": f"{PAGE}?field=quantity"}, follow=True)
    assert answer.redirect_chain == [(f"{PAGE}?field=quantity", 302)]
    assert "Microsoft&#x27;s value taken." in answer.content.decode()  # the message, escaped
    assert Subscription.objects.get(pk=sub.pk).quantity == 12
    assert "<strong>1</strong> difference" in finance.get(PAGE).content.decode()
    assert "<strong>2</strong> differences" in finance.get(PAGE, {"state": "all"}).content.decode()


def test_the_api_lists_open_differences_to_staff_only(tenant: Tenant, partner_center, api_for) -> None:
    sub = _drifted(tenant, partner_center, quantity=12)
    partner_center_sync(partner=tenant.partner)
    rows = api_for(tenant.agent).get("/api/v1/subscription-differences/").json()["results"]
    assert [(r["subscription"], r["field"], r["portal_value"], r["microsoft_value"], r["state"]) for r in rows] == [
        (sub.pk, "quantity", "10", "12", "open")
    ]
    assert api_for(tenant.customer_admin).get("/api/v1/subscription-differences/").status_code == 403
