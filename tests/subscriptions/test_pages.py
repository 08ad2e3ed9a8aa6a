"""Staff subscription pages: the access matrix, filters, pagination, suspend/reactivate, retry, Azure steps."""

from __future__ import annotations

import re
import uuid

import pytest

from partner_portal.models import AuditEvent
from subscriptions.models import PartnerCenterAccount, Subscription, SubscriptionChange
from subscriptions.secrets import secret_decrypt
from tests.conftest import Tenant
from tests.factories.subscriptions import SubscriptionFactory, azure_plan
from tests.fakes import partner_center_shapes as shapes

LIST = "/staff/subscriptions/"


def test_anonymous_is_sent_to_sign_in(tenant: Tenant, client) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    for url in (LIST, f"{LIST}{sub.pk}/", f"{LIST}{sub.pk}/suspend/"):
        answer = client.get(url)
        assert answer.status_code == 302
        assert "/accounts/login/" in answer["Location"]


def test_customer_users_have_no_staff_pages(tenant: Tenant, client_for) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    client = client_for(tenant.customer_admin)
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{sub.pk}/").status_code == 403
    assert client.post(f"{LIST}{sub.pk}/suspend/", {"reason": "x"}).status_code == 403
    assert Subscription.objects.get(pk=sub.pk).status == "active"


def test_other_partner_gets_404(tenant: Tenant, other_tenant: Tenant, client_for) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    client = client_for(other_tenant.admin)
    assert client.get(f"{LIST}{sub.pk}/").status_code == 404
    assert client.post(f"{LIST}{sub.pk}/suspend/", {"reason": "x"}).status_code == 404
    assert Subscription.objects.get(pk=sub.pk).status == "active"


def test_list_filters_and_pages_with_a_fixed_number_of_queries(
    tenant: Tenant, other_tenant: Tenant, client_for, django_assert_max_num_queries
) -> None:
    for n in range(30):
        SubscriptionFactory(customer=tenant.customer, product=f"Microsoft 365 E3 #{n:02d}")
    azure = azure_plan(customer=tenant.other_customer)
    SubscriptionFactory(customer=other_tenant.customer, product="Foreign product")
    client = client_for(tenant.agent)
    with django_assert_max_num_queries(12):
        page = client.get(LIST)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<strong>31</strong> subscriptions" in html
    assert "Foreign product" not in html
    assert len(re.findall(r'href="/staff/subscriptions/\d+/"', html)) == 25
    assert 'rel="next"' in html
    assert "/suspend/" not in html  # no action buttons on the list
    cursor = re.search(r'rel="next" href="\?cursor=([^"]+)"', html)
    assert cursor is not None
    with django_assert_max_num_queries(12):
        second = client.get(LIST, {"cursor": cursor.group(1)}).content.decode()
    assert len(re.findall(r'href="/staff/subscriptions/\d+/"', second)) == 6

    filtered = client.get(LIST, {"family": "azure"}).content.decode()
    assert "<strong>1</strong> subscription matches these filters" in filtered
    assert "Azure plan" in filtered
    assert client.get(LIST, {"q": azure.microsoft_subscription_id}).content.decode().count("Azure plan") >= 1
    assert "<strong>30</strong>" in client.get(LIST, {"customer": tenant.customer.pk}).content.decode()


def test_pending_changes_filter(tenant: Tenant, client_for, django_capture_on_commit_callbacks) -> None:
    waiting = SubscriptionFactory(customer=tenant.customer, product="Waiting one")
    SubscriptionFactory(customer=tenant.customer, product="Quiet one")
    with django_capture_on_commit_callbacks(execute=False):
        client_for(tenant.finance).post(f"{LIST}{waiting.pk}/suspend/", {"reason": "overdue"})
    html = client_for(tenant.agent).get(LIST, {"changes": "pending"}).content.decode()
    assert "Waiting one" in html
    assert "Quiet one" not in html
    assert "Suspension pending" in html


def test_agent_reads_the_detail_but_cannot_suspend(tenant: Tenant, client_for) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    client = client_for(tenant.agent)
    html = client.get(f"{LIST}{sub.pk}/").content.decode()
    assert sub.microsoft_subscription_id in html
    assert f"{LIST}{sub.pk}/suspend/" not in html
    assert client.get(f"{LIST}{sub.pk}/suspend/").status_code == 403
    assert client.post(f"{LIST}{sub.pk}/suspend/", {"reason": "x"}).status_code == 403
    assert not SubscriptionChange.objects.exists()


def test_finance_suspends_with_a_required_reason(tenant: Tenant, client_for, on_commit) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    client = client_for(tenant.finance)
    assert f"{LIST}{sub.pk}/suspend/" in client.get(f"{LIST}{sub.pk}/").content.decode()
    refused = client.post(f"{LIST}{sub.pk}/suspend/", {"reason": ""})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    assert Subscription.objects.get(pk=sub.pk).status == "active"
    with on_commit():
        done = client.post(f"{LIST}{sub.pk}/suspend/", {"reason": "Three invoices unpaid"})
    assert done["Location"] == f"{LIST}{sub.pk}/"
    html = client.get(done["Location"]).content.decode()
    assert "Suspension requested" in html
    assert "Three invoices unpaid" in html
    assert "Recorded without calling Partner Center (record-only backend)" in html
    assert Subscription.objects.get(pk=sub.pk).status == "suspended"
    assert AuditEvent.objects.filter(action="subscription.suspension_requested", actor=tenant.finance).count() == 1
    # Suspended: the page offers reactivation only.
    assert f"{LIST}{sub.pk}/reactivate/" in html
    assert f"{LIST}{sub.pk}/suspend/" not in html
    again = client.get(f"{LIST}{sub.pk}/suspend/", follow=True)
    assert "already suspended" in again.content.decode()


def test_a_failed_change_shows_microsofts_description_and_can_be_retried(
    tenant: Tenant, client_for, partner_center, django_capture_on_commit_callbacks, on_commit
) -> None:
    partner_center.connect(tenant.partner)
    sub = SubscriptionFactory(customer=tenant.customer)
    partner_center.enqueue("PATCH", sub.microsoft_subscription_id, 400,
                           body=shapes.error("800096", "Can't update the status for this subscription"))  # fmt: skip
    client = client_for(tenant.finance)
    with on_commit():
        client.post(f"{LIST}{sub.pk}/suspend/", {"reason": "overdue"})
    change = SubscriptionChange.objects.get(subscription=sub)
    assert change.state == "failed"
    html = client.get(f"{LIST}{sub.pk}/").content.decode()
    assert "Microsoft refused the suspension." in html
    assert "Microsoft does not allow the status of this subscription to be changed (error 800096)" in html
    assert "Microsoft's answer: 800096 — Can&#x27;t update the status for this subscription" in html
    assert "Suspension pending" in html
    failed_list = client.get(LIST, {"changes": "failed"}).content.decode()
    assert "1 change needs attention" in failed_list
    with on_commit():
        client.post(f"/staff/subscriptions/changes/{change.pk}/retry/")
    change.refresh_from_db()
    assert (change.state, change.attempts) == ("confirmed", 2)
    assert Subscription.objects.get(pk=sub.pk).status == "suspended"
    assert AuditEvent.objects.filter(action="subscription.change_retried", actor=tenant.finance).count() == 1


def test_agent_cannot_retry_or_complete_changes(tenant: Tenant, client_for, django_capture_on_commit_callbacks) -> None:
    plan = azure_plan(customer=tenant.customer)
    with django_capture_on_commit_callbacks(execute=False):
        client_for(tenant.finance).post(f"{LIST}{plan.pk}/suspend/", {"reason": "overdue"})
    change = SubscriptionChange.objects.get(subscription=plan)
    agent = client_for(tenant.agent)
    assert agent.post(f"/staff/subscriptions/changes/{change.pk}/done/").status_code == 403
    assert agent.post(f"/staff/subscriptions/changes/{change.pk}/retry/").status_code == 403
    change.refresh_from_db()
    assert change.state == "needs_manual_step"


def test_azure_plan_shows_the_manual_step_and_records_it(
    tenant: Tenant, other_tenant: Tenant, client_for, on_commit
) -> None:
    plan = azure_plan(customer=tenant.customer)
    client = client_for(tenant.admin)
    html = client.post(f"{LIST}{plan.pk}/suspend/", {"reason": "overdue"}, follow=True).content.decode()
    assert "Azure plan: suspend in Azure Resource Manager" in html
    assert "Suspension pending" in html
    change = SubscriptionChange.objects.get(subscription=plan)
    assert client_for(other_tenant.admin).post(f"/staff/subscriptions/changes/{change.pk}/done/").status_code == 404
    with on_commit():  # then the plan's suspension is sent (the record-only backend here)
        client.post(f"/staff/subscriptions/changes/{change.pk}/done/", {"note": "Disabled by Ann in ARM"})
    assert Subscription.objects.get(pk=plan.pk).status == "suspended"
    assert "Disabled by Ann in ARM" in client.get(f"{LIST}{plan.pk}/").content.decode()


def test_partner_center_account_is_for_admins_and_never_shows_the_secret(tenant: Tenant, client_for) -> None:
    url = "/staff/subscriptions/partner-center/"
    assert client_for(tenant.finance).get(url).status_code == 403
    client = client_for(tenant.admin)
    tenant_id, app_id = uuid.uuid4(), uuid.uuid4()
    refused = client.post(url, {"aad_tenant_id": "not-a-uuid", "application_id": str(app_id), "secret": "x"})
    assert refused.status_code == 400
    assert not PartnerCenterAccount.objects.exists()
    missing = client.post(url, {"aad_tenant_id": str(tenant_id), "application_id": str(app_id), "secret": ""})
    assert "Enter the application&#x27;s client secret." in missing.content.decode()
    client.post(url, {"aad_tenant_id": str(tenant_id), "application_id": str(app_id), "secret": "top-secret-value"})
    account = PartnerCenterAccount.objects.get(partner=tenant.partner)
    assert "top-secret-value" not in account.secret_encrypted
    assert secret_decrypt(account.secret_encrypted) == "top-secret-value"
    page = client.get(url).content.decode()
    assert str(tenant_id) in page
    assert "top-secret-value" not in page
    # An empty secret keeps the stored one.
    client.post(url, {"aad_tenant_id": str(tenant_id), "application_id": str(uuid.uuid4()), "secret": ""})
    assert (
        secret_decrypt(PartnerCenterAccount.objects.get(partner=tenant.partner).secret_encrypted) == "top-secret-value"
    )
    audit = AuditEvent.objects.filter(action="partner_center.account_set").first()
    assert audit is not None
    assert "top-secret-value" not in str(audit.data)


@pytest.mark.parametrize("status", ["suspension_pending", "reactivation_pending"])
def test_customer_home_shows_pending_labels(tenant: Tenant, client_for, status: str) -> None:
    SubscriptionFactory(customer=tenant.customer, status=status)
    html = client_for(tenant.customer_admin).get("/my/").content.decode()
    assert {"suspension_pending": "Suspension pending", "reactivation_pending": "Reactivation pending"}[status] in html


def test_customer_detail_links_to_its_subscriptions(tenant: Tenant, client_for) -> None:
    html = client_for(tenant.agent).get(f"/staff/customers/{tenant.customer.pk}/").content.decode()
    assert f"/staff/subscriptions/?customer={tenant.customer.pk}" in html


def test_staff_dashboard_points_at_changes_needing_attention(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.agent)
    assert "subscription change needs attention" not in client.get("/staff/").content.decode()
    plan = azure_plan(customer=tenant.customer)
    client_for(tenant.finance).post(f"{LIST}{plan.pk}/suspend/", {"reason": "overdue"})
    html = client.get("/staff/").content.decode()
    assert "1 subscription change needs attention" in html
    assert "/staff/subscriptions/?changes=manual" in html


def test_every_sort_link_of_the_list_keeps_the_filters(tenant: Tenant, client_for) -> None:
    SubscriptionFactory(customer=tenant.customer, product="Alpha", status="active")
    SubscriptionFactory(customer=tenant.customer, product="Beta", status="suspended")
    client = client_for(tenant.finance)
    for sort in ("status", "-status"):
        body = client.get("/staff/subscriptions/", {"sort": sort, "q": "a"}).content.decode()
        assert "errorlist" not in body
        products = re.findall(r">(Alpha|Beta)<", body)
        assert products == (["Alpha", "Beta"] if sort == "status" else ["Beta", "Alpha"])
