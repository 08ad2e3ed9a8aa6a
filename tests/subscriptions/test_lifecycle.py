"""New-commerce lifecycle on the subscription page: term end while suspended, legacy data deletion."""

from __future__ import annotations

import datetime as dt

from partner_portal import clock
from subscriptions import lifecycle
from subscriptions.models import Subscription
from tests.conftest import Tenant
from tests.factories.subscriptions import SubscriptionFactory

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
LEGACY_OFFER = "91FD106F-4B2C-4938-95AC-F54F74E9A239"


def _page(client_for, tenant: Tenant, sub: Subscription) -> str:
    with clock.frozen(NOW):
        return client_for(tenant.finance).get(f"/staff/subscriptions/{sub.pk}/").content.decode()


def test_new_commerce_is_told_from_legacy_by_its_offer_id() -> None:
    assert Subscription(offer_id="CFQ7TTC0LH18:0001").is_new_commerce
    assert Subscription(offer_id="DZH318Z0C964:0001:DZH318Z0BZDG").is_new_commerce
    assert not Subscription(offer_id=LEGACY_OFFER).is_new_commerce
    assert not Subscription(offer_id="").is_new_commerce


def test_a_suspended_new_commerce_subscription_shows_its_term_ending(tenant: Tenant, client_for) -> None:
    sub = SubscriptionFactory(
        customer=tenant.customer, status="suspended", suspended_at=NOW - dt.timedelta(days=3),
        term_start_date=dt.date(2025, 7, 1), commitment_end_date=dt.date(2026, 6, 30), term="P1Y",
        auto_renew_enabled=False, auto_renew_before_suspension=True,
    )  # fmt: skip
    page = _page(client_for, tenant, sub)
    assert "The term ends in 29 days while suspended (Jun 30, 2026)." in page
    assert "Microsoft does not renew a subscription that is still suspended when its term ends" in page
    assert "turned back on at reactivation" in page
    assert "Microsoft deletes the customer" not in page


def test_an_active_subscription_shows_no_term_warning(tenant: Tenant, client_for) -> None:
    sub = SubscriptionFactory(customer=tenant.customer, commitment_end_date=dt.date(2026, 6, 30))
    assert "while suspended" not in _page(client_for, tenant, sub)


def test_a_legacy_subscription_warns_from_60_days_suspended(tenant: Tenant, client_for) -> None:
    sub = SubscriptionFactory(
        customer=tenant.customer, offer_id=LEGACY_OFFER, status="suspended", suspended_at=NOW - dt.timedelta(days=59)
    )
    assert "Microsoft deletes the customer" not in _page(client_for, tenant, sub)
    Subscription.objects.filter(pk=sub.pk).update(suspended_at=NOW - dt.timedelta(days=61))
    page = _page(client_for, tenant, sub)
    assert "Suspended for 61 days." in page
    assert "90 days after its suspension: on Jun 30, 2026, unless it is reactivated before." in page


def test_the_cancellation_window_is_seven_days_from_the_terms_start() -> None:
    sub = Subscription(offer_id="CFQ7TTC0LH18:0001", term_start_date=dt.date(2026, 6, 1))
    assert lifecycle.cancellation_window_end(sub) == dt.date(2026, 6, 7)
    assert [lifecycle.can_cancel(sub, dt.date(2026, 6, d)) for d in (1, 7, 8)] == [True, True, False]
    assert not lifecycle.can_cancel(Subscription(offer_id=LEGACY_OFFER, term_start_date=dt.date(2026, 6, 1)),
                                    dt.date(2026, 6, 2))  # fmt: skip
