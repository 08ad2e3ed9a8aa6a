"""Time is recorded on a ticket for a day between its opening and today: the service refuses any
other day, and the ticket page shows the same refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from partner_portal import clock
from tests.factories.tickets import ticket
from tickets.errors import TicketInvalid
from tickets.models import TimeEntry
from tickets.services import time_entry_add

pytestmark = pytest.mark.django_db

OPENED = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
REFUSAL = "Time cannot be recorded for a day before the ticket was opened (Nov 20, 2026)."


@pytest.fixture
def opened(tenant):
    with clock.frozen(OPENED):
        return ticket(tenant.customer, opened_by=tenant.customer_admin)


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)):
        yield


def test_time_before_the_ticket_was_opened_or_in_the_future_is_refused(tenant, opened) -> None:
    with pytest.raises(TicketInvalid) as refused:
        time_entry_add(ticket=opened, agent=tenant.agent, minutes=30, billable=True, worked_on=dt.date(2023, 5, 1))
    assert str(refused.value) == REFUSAL
    assert refused.value.fields == {"worked_on": [REFUSAL]}
    with pytest.raises(TicketInvalid):
        time_entry_add(ticket=opened, agent=tenant.agent, minutes=30, billable=True, worked_on=dt.date(2026, 12, 5))
    assert not TimeEntry.objects.exists()
    entry = time_entry_add(ticket=opened, agent=tenant.agent, minutes=30, billable=True, worked_on=OPENED.date())
    assert entry.worked_on == dt.date(2026, 11, 20)


def test_the_ticket_page_gives_the_same_refusal(tenant, opened, client_for) -> None:
    response = client_for(tenant.agent).post(
        reverse("ticket_time", args=[opened.pk]), {"minutes": "45", "worked_on": "2023-05-01", "billable": "on"}
    )
    assert response.status_code == 400
    assert REFUSAL in response.content.decode()
    assert not TimeEntry.objects.exists()
