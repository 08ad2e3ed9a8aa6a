"""sync_partner_center: customers and subscriptions read through the real client, written idempotently."""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from partner_portal.models import AuditEvent, Customer
from subscriptions.models import Subscription
from subscriptions.services.sync import partner_center_sync
from tests.conftest import Tenant
from tests.factories.subscriptions import SubscriptionFactory
from tests.fakes import partner_center_shapes as shapes
from tests.fakes.partner_center import FakePartnerCenter

NEW_TENANT = "7a7a7a7a-0000-4000-8000-000000000001"
OTHER_TENANT = "7a7a7a7a-0000-4000-8000-000000000002"


def _microsoft(tenant: Tenant, fake: FakePartnerCenter) -> Subscription:
    fake.connect(tenant.partner)
    known = str(tenant.customer.tenant_id)
    fake.add_customer(known, "Alpha Customer One at Microsoft")
    fake.add_customer(NEW_TENANT, "Contoso Ltd", "contoso.onmicrosoft.com")
    fake.add_customer(OTHER_TENANT, "Fabrikam")
    existing = SubscriptionFactory(customer=tenant.customer, microsoft_subscription_id="sub-known", quantity=10,
                                   unit_price=Decimal("36.00"), product="E3 as we sell it")  # fmt: skip
    fake.add_subscription(known, "sub-known", quantity=12)
    fake.add_subscription(NEW_TENANT, "sub-new", offerName="Microsoft 365 Business Premium", quantity=5,
                          billingCycle="annual", termDuration="P1Y")  # fmt: skip
    fake.add_subscription(NEW_TENANT, "sub-suspended", status="suspended")
    fake.add_subscription(NEW_TENANT, "sub-gone", status="deleted")
    return existing


def test_sync_creates_what_is_missing_and_never_touches_sale_prices(tenant: Tenant, partner_center) -> None:
    existing = _microsoft(tenant, partner_center)
    result = partner_center_sync(partner=tenant.partner)
    assert (result.customers_created, result.subscriptions_created, result.subscriptions_updated) == (2, 2, 1)
    assert result.skipped == ["subscription sub-gone: deleted at Microsoft"]
    existing.refresh_from_db()
    # the quantity differs: recorded for staff to settle, neither side overwritten
    assert (existing.unit_price, existing.quantity, existing.product) == (Decimal("36.0000"), 10, "E3 as we sell it")
    assert list(existing.differences.values_list("field", "portal_value", "microsoft_value", "state")) == [
        ("quantity", "10", "12", "open")
    ]
    assert result.differences_found == 1
    assert (existing.microsoft_status, existing.term, existing.auto_renew_enabled) == ("active", "P1Y", True)
    contoso = Customer.objects.get(partner=tenant.partner, tenant_id=NEW_TENANT)
    assert (contoso.name, contoso.domain, contoso.currency) == (
        "Contoso Ltd",
        "contoso.onmicrosoft.com",
        tenant.partner.default_currency,
    )
    new = Subscription.objects.get(partner=tenant.partner, microsoft_subscription_id="sub-new")
    assert (new.customer, new.product, new.unit_price, new.quantity, new.billing_cycle, new.status) == (
        contoso,
        "Microsoft 365 Business Premium",
        Decimal("0.0000"),
        5,
        "annual",
        "active",
    )
    assert Subscription.objects.get(microsoft_subscription_id="sub-suspended").status == "suspended"
    assert not Subscription.objects.filter(microsoft_subscription_id="sub-gone").exists()
    # paged: 3 customers at 2 a page, and each customer's subscriptions
    pages = [r for r in partner_center.calls("GET") if r.path == "/v1/customers"]
    assert [r.headers.get("MS-ContinuationToken") for r in pages] == [None, "2"]


def test_a_second_sync_changes_nothing(tenant: Tenant, partner_center) -> None:
    _microsoft(tenant, partner_center)
    partner_center_sync(partner=tenant.partner)
    counts = (Customer.objects.count(), Subscription.objects.count(), AuditEvent.objects.count())
    result = partner_center_sync(partner=tenant.partner)
    assert (result.customers_created, result.subscriptions_created, result.subscriptions_updated) == (0, 0, 0)
    assert (Customer.objects.count(), Subscription.objects.count(), AuditEvent.objects.count()) == (
        counts[0],
        counts[1],
        counts[2] + 1,  # only the run's own audit event
    )


def test_throttled_pages_are_waited_out(tenant: Tenant, partner_center) -> None:
    _microsoft(tenant, partner_center)
    partner_center.enqueue("GET", re.compile(r"^/v1/customers$"), 429, body=shapes.throttled(0),
                           headers={"Retry-After": "0"})  # fmt: skip
    assert partner_center_sync(partner=tenant.partner).customers_created == 2


def test_the_command_syncs_one_partner_and_refuses_an_unknown_one(tenant: Tenant, partner_center) -> None:
    _microsoft(tenant, partner_center)
    out = StringIO()
    call_command("sync_partner_center", "--partner", tenant.partner.slug, stdout=out)
    assert out.getvalue() == (
        f"{tenant.partner.slug}: 2 customer(s) and 2 subscription(s) created, 1 subscription(s) updated, 1 skipped\n"
    )
    with pytest.raises(CommandError, match="no partner 'nobody'"):
        call_command("sync_partner_center", "--partner", "nobody")


def test_a_batch_of_customers_costs_the_same_queries_whatever_its_size(
    tenant: Tenant, other_tenant: Tenant, partner_center
) -> None:
    """Set-based: the queries of a batch do not grow with its customers and subscriptions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    partner_center.page_size = 100

    def queries(t: Tenant, customers: int) -> int:
        partner_center.connect(t.partner)
        for n in range(customers):
            tid = f"{t.partner.pk:08d}-0000-4000-8000-{n:012d}"
            partner_center.add_customer(tid, f"Customer {n}")
            for k in range(3):
                partner_center.add_subscription(tid, f"{t.partner.slug}-{n}-{k}")
        with CaptureQueriesContext(connection) as captured:
            partner_center_sync(partner=t.partner)
        return len(captured)

    small = queries(tenant, 2)
    # the stand-in lists every customer it has, so the second partner sees 2 + 8 in its batch
    assert queries(other_tenant, 8) == small
    assert Subscription.objects.filter(partner=other_tenant.partner).count() == 30
