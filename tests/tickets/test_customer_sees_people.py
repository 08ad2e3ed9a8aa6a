"""Customers see people, not addresses, on their tickets, and when to expect an answer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone

from tests.conftest import Tenant
from tests.factories.tickets import ticket
from tickets.models import Ticket
from tickets.services import ticket_message_add

pytestmark = pytest.mark.django_db


def _page(client, t: Ticket) -> str:
    response = client.get(f"/my/tickets/{t.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _local(moment: dt.datetime, tenant: Tenant) -> str:
    with timezone.override(tenant.partner.time_zone):
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def test_staff_replies_show_a_name_and_the_team_never_an_email(tenant: Tenant, client_for) -> None:
    tenant.agent.full_name = "Anna Petrova"
    tenant.agent.save(update_fields=["full_name"])
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    ticket_message_add(ticket=t, author=tenant.agent, body="Could you send a screenshot?", internal=False)
    ticket_message_add(ticket=t, author=tenant.finance, body="The invoice is corrected.", internal=False)

    html = _page(client_for(tenant.customer_admin), t)
    assert '<strong>Anna Petrova</strong> <span class="badge badge-info">Support team</span>' in html
    assert f"<strong>{tenant.partner.name} support</strong>" in html  # finance has no name on file
    assert tenant.agent.email not in html
    assert tenant.finance.email not in html
    # Staff still see who is who, with addresses where there is no name.
    staff_html = client_for(tenant.admin).get(f"/staff/tickets/{t.pk}/").content.decode()
    assert tenant.finance.email in staff_html


def test_the_customer_sees_when_to_expect_an_answer(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.customer_admin)
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    assert t.answer_expected_by() == t.first_response_due is not None
    html = _page(client, t)
    assert "We will answer by" in html
    assert _local(t.first_response_due, tenant) in html

    ticket_message_add(ticket=t, author=tenant.agent, body="Looking into it.", internal=False)
    t.refresh_from_db()
    assert t.answer_expected_by() == t.resolution_due
    html = _page(client, t)
    assert "We aim to solve it by" in html
    assert "We will answer by" not in html

    Ticket.objects.filter(pk=t.pk).update(status=Ticket.Status.PENDING_CUSTOMER, sla_paused_at=t.created_at)
    t.refresh_from_db()
    assert t.answer_expected_by() is None
    html = _page(client, t)
    assert "We aim to solve it by" not in html
    assert "We are waiting for your answer" in html


def test_the_page_does_not_query_per_message(tenant: Tenant, client_for) -> None:
    client = client_for(tenant.customer_admin)
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    ticket_message_add(ticket=t, author=tenant.agent, body="First.", internal=False)
    _page(client, t)
    with CaptureQueriesContext(connection) as few:
        _page(client, t)
    for n in range(6):
        author = tenant.finance if n % 2 else tenant.customer_member
        ticket_message_add(ticket=t, author=author, body=f"Message {n}", internal=False)
    with CaptureQueriesContext(connection) as many:
        _page(client, t)
    assert len(many) == len(few)
