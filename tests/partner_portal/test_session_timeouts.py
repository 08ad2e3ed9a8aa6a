"""Staff sessions end after 30 minutes without a request and 12 hours after sign-in; customer users
keep their session."""

from __future__ import annotations

import datetime as dt

import pytest

from partner_portal import clock
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


def _signed_in(client_for, user):
    with clock.frozen(T0):  # the session's clocks start at sign-in
        return client_for(user)


def _at(client, minutes: float, path: str = "/staff/tickets/"):
    with clock.frozen(T0 + dt.timedelta(minutes=minutes)):
        return client.get(path)


def test_a_staff_session_ends_after_30_idle_minutes(tenant: Tenant, client_for) -> None:
    client = _signed_in(client_for, tenant.agent)
    assert _at(client, 0).status_code == 200
    assert _at(client, 29).status_code == 200  # activity keeps it going
    assert _at(client, 58).status_code == 200
    response = _at(client, 89)  # 31 minutes after the last request
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert _at(client, 90).status_code == 302  # signed out for good, not just redirected once


def test_a_staff_session_ends_12_hours_after_sign_in_whatever_the_activity(tenant: Tenant, client_for) -> None:
    client = _signed_in(client_for, tenant.finance)
    for minutes in range(0, 12 * 60, 20):
        assert _at(client, minutes, "/staff/billing/invoices/").status_code == 200
    assert _at(client, 12 * 60 + 5, "/staff/billing/invoices/").status_code == 302


def test_customer_users_keep_their_session(tenant: Tenant, client_for) -> None:
    client = _signed_in(client_for, tenant.customer_admin)
    assert _at(client, 0, "/my/").status_code == 200
    assert _at(client, 24 * 60, "/my/").status_code == 200
