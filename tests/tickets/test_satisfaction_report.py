"""The satisfaction report: figures on a small known data set, the month range, access and query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from partner_portal import clock
from tests.factories.tickets import ticket
from tickets import selectors
from tickets.models import Ticket
from tickets.services import TicketChanges, ticket_rate, ticket_status_change, ticket_update

pytestmark = pytest.mark.django_db
S = Ticket.Status
UTC = dt.UTC


def rated(tenant, *, agent, family: str, when: dt.datetime, score: int | None) -> Ticket:
    """A ticket resolved at `when` by `agent` and, unless score is None, rated an hour later."""
    with clock.frozen(when - dt.timedelta(hours=2)):
        t = ticket(tenant.customer, opened_by=tenant.customer_admin, product_family=family)
        if agent is not None:
            ticket_update(ticket=t, actor=tenant.admin, changes=TicketChanges(assignee=agent))
    with clock.frozen(when):
        ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.admin)
    if score is not None:
        with clock.frozen(when + dt.timedelta(hours=1)):
            ticket_rate(ticket=t, score=score, comment="", actor=tenant.customer_admin)
    return t


@pytest.fixture
def data(tenant, other_tenant):
    """October: the agent 5 and 4 (azure, m365), the admin 3 (azure); November: the agent 2 (reopened:
    not resolved any more), one resolved but not rated; September: one rating outside the default range
    when "today" is in December. The other partner's rating never counts."""
    rated(tenant, agent=tenant.agent, family="azure", when=dt.datetime(2026, 10, 5, 10, tzinfo=UTC), score=5)
    rated(tenant, agent=tenant.agent, family="microsoft_365", when=dt.datetime(2026, 10, 6, 10, tzinfo=UTC), score=4)
    rated(tenant, agent=tenant.admin, family="azure", when=dt.datetime(2026, 10, 7, 10, tzinfo=UTC), score=3)
    rated(tenant, agent=tenant.agent, family="azure", when=dt.datetime(2026, 11, 3, 10, tzinfo=UTC), score=2)
    rated(tenant, agent=None, family="dynamics_365", when=dt.datetime(2026, 11, 4, 10, tzinfo=UTC), score=None)
    rated(tenant, agent=tenant.agent, family="azure", when=dt.datetime(2025, 9, 4, 10, tzinfo=UTC), score=1)
    rated(
        other_tenant, agent=other_tenant.agent, family="azure", when=dt.datetime(2026, 10, 5, 10, tzinfo=UTC), score=1
    )


def test_report_figures(tenant, data, client_for) -> None:
    from partner_portal.tenancy import Scope

    scope = Scope(tenant.admin.membership)
    report = selectors.satisfaction_report(
        scope=scope, first_month=dt.date(2026, 10, 1), last_month=dt.date(2026, 11, 1)
    )
    assert report.total.count == 4
    assert report.total.average == pytest.approx(3.5)
    agents = {row.label: (row.count, row.average) for row in report.agents}
    assert agents[tenant.agent.full_name or tenant.agent.email] == (3, pytest.approx(11 / 3))
    assert agents[tenant.admin.full_name or tenant.admin.email] == (1, pytest.approx(3.0))
    families = {row.key: (row.count, row.average) for row in report.families}
    assert families == {"azure": (3, pytest.approx(10 / 3)), "microsoft_365": (1, pytest.approx(4.0))}
    months = {m.month: (m.count, m.average, m.resolved, m.rated) for m in report.months}
    assert months[dt.date(2026, 10, 1)] == (3, pytest.approx(4.0), 3, 3)
    # November: the 2 reopened its ticket (no longer resolved); the other resolved ticket is not rated.
    assert months[dt.date(2026, 11, 1)] == (1, pytest.approx(2.0), 1, 0)
    assert (report.resolved, report.rated) == (4, 3)
    assert report.response_rate == pytest.approx(0.75)


def test_report_page_default_range_and_filter(tenant, data, client_for, django_assert_max_num_queries) -> None:
    url = reverse("satisfaction_report")
    with clock.frozen(dt.datetime(2026, 12, 10, 12, tzinfo=UTC)):  # the session and "today" alike
        client = client_for(tenant.agent)
        with django_assert_max_num_queries(15):
            response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        # The last 12 months: January to December 2026; the September 2025 rating is outside.
        assert page.count("data-month=") == 12
        assert 'data-month="2026-01"' in page
        assert 'data-month="2025-12"' not in page
        assert "<dd data-count>4</dd>" in page
        assert "<dd data-average>3.50</dd>" in page
        assert "75 %" in page
        page = client.get(url, {"first": "2025-09", "last": "2025-09"}).content.decode()
        assert page.count("data-month=") == 1
        assert "<dd data-count>1</dd>" in page
        assert "<dd data-average>1.00</dd>" in page
        response = client.get(url, {"first": "2026-11", "last": "2026-10"})
        assert "The first month must not be after the last." in response.content.decode()
        response = client.get(url, {"first": "October"})
        assert "Enter a month as YYYY-MM" in response.content.decode()


def test_report_query_count_does_not_grow_with_rows(tenant, client_for, django_assert_max_num_queries) -> None:
    client = client_for(tenant.admin)
    url = reverse("satisfaction_report") + "?first=2026-01&last=2026-12"
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for day in range(1, 6):
        for agent in (tenant.agent, tenant.admin):
            rated(tenant, agent=agent, family="azure", when=dt.datetime(2026, 3, day, 10, tzinfo=UTC), score=4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert "<dd data-count>10</dd>" in page


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (dt.date(2026, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 12, 1)),
        (dt.date(2026, 1, 15), dt.date(2025, 2, 1), dt.date(2026, 1, 1)),
        (dt.date(2026, 6, 1), dt.date(2025, 7, 1), dt.date(2026, 6, 1)),
    ],
)
def test_default_months_are_the_last_twelve(today, first, last) -> None:
    assert selectors.satisfaction_months_default(today) == (first, last)


def test_report_access_and_link(tenant, client_for) -> None:
    url = reverse("satisfaction_report")
    assert client_for(tenant.admin).get(url).status_code == 200
    assert client_for(tenant.agent).get(url).status_code == 200
    for user in (tenant.finance, tenant.customer_admin, tenant.customer_member):
        assert client_for(user).get(url).status_code == 403
    assert url in client_for(tenant.agent).get(reverse("ticket_list")).content.decode()
    assert url not in client_for(tenant.finance).get(reverse("ticket_list")).content.decode()
