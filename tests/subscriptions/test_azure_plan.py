"""Azure plan against the stand-in: the step in Azure Resource Manager first, then the plan itself
suspended by PATCH; 900115 explained to staff; reactivation the other way round."""

from __future__ import annotations

from subscriptions.models import Subscription, SubscriptionChange
from subscriptions.services import (
    subscription_change_complete_manually,
    subscription_change_retry,
    subscription_reactivate,
    subscription_suspend,
)
from tests.conftest import Tenant
from tests.factories.subscriptions import azure_plan

PLAN_ID = "a2a2a2a2-0000-4000-8000-00000000000a"


def _plan(tenant: Tenant, fake) -> Subscription:
    fake.connect(tenant.partner)
    fake.add_subscription(str(tenant.customer.tenant_id), PLAN_ID, offerId="DZH318Z0BPS6:0001", offerName="Azure plan")
    return azure_plan(customer=tenant.customer, microsoft_subscription_id=PLAN_ID)


def test_the_plan_is_suspended_at_microsoft_once_staff_did_the_azure_step(
    tenant: Tenant, partner_center, on_commit
) -> None:
    plan = _plan(tenant, partner_center)
    with on_commit():
        change = subscription_suspend(subscription=plan, reason="overdue", actor=tenant.finance)
    assert change is not None
    assert partner_center.patches(PLAN_ID) == []  # nothing sent before the step in Azure Resource Manager
    with on_commit():
        sent = subscription_change_complete_manually(change=change, actor=tenant.admin, note="Disabled by Ann")
    assert sent.state == "pending"
    (patch,) = partner_center.patches(PLAN_ID)
    assert patch.json["status"] == "suspended"
    change.refresh_from_db()
    assert (change.state, change.microsoft_response["azure_step"]["note"]) == ("confirmed", "Disabled by Ann")
    assert change.azure_step_done_at is not None
    assert Subscription.objects.get(pk=plan.pk).status == "suspended"
    assert partner_center.subscription(PLAN_ID)["status"] == "suspended"


def test_900115_is_explained_and_a_retry_sends_it_again(tenant: Tenant, partner_center, on_commit) -> None:
    plan = _plan(tenant, partner_center)
    partner_center.azure_plans_with_active_subscriptions.add(PLAN_ID)
    with on_commit():
        change = subscription_suspend(subscription=plan, reason="overdue", actor=tenant.finance)
    assert change is not None
    with on_commit():
        subscription_change_complete_manually(change=change, actor=tenant.admin)
    change.refresh_from_db()
    assert change.state == "failed"
    assert change.last_error == (
        "Microsoft does not suspend an Azure plan while it has active Azure subscriptions (error 900115). "
        "Disable those Azure subscriptions in the Azure portal first."
    )
    assert Subscription.objects.get(pk=plan.pk).status == "suspension_pending"
    partner_center.azure_plans_with_active_subscriptions.clear()  # staff disabled the last one
    with on_commit():
        subscription_change_retry(change=change, actor=tenant.finance)
    change.refresh_from_db()
    assert (change.state, Subscription.objects.get(pk=plan.pk).status) == ("confirmed", "suspended")


def test_reactivation_sends_the_plan_first_then_reminds_of_the_azure_step(
    tenant: Tenant, partner_center, on_commit
) -> None:
    plan = _plan(tenant, partner_center)
    partner_center.set_status(PLAN_ID, "suspended")
    Subscription.objects.filter(pk=plan.pk).update(status="suspended", suspension_source="manual")
    plan.refresh_from_db()
    with on_commit():
        change = subscription_reactivate(subscription=plan, reason="paid", actor=tenant.finance)
    assert change is not None
    change.refresh_from_db()
    assert [p.json["status"] for p in partner_center.patches(PLAN_ID)][:1] == ["active"]
    assert partner_center.subscription(PLAN_ID)["status"] == "active"
    assert (change.state, change.last_error) == (
        "needs_manual_step",
        "Azure plan: reactivate in Azure Resource Manager",
    )
    assert Subscription.objects.get(pk=plan.pk).status == "reactivation_pending"
    done = subscription_change_complete_manually(change=change, actor=tenant.admin, note="Enabled in ARM")
    assert done.state == SubscriptionChange.State.CONFIRMED
    assert Subscription.objects.get(pk=plan.pk).status == "active"
    event = plan.status_events.order_by("-pk").first()
    assert (event.to_status, event.source, event.actor, event.reason) == (
        "active", "manual", tenant.admin, "Done in Azure Resource Manager",
    )  # fmt: skip
