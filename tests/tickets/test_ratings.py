"""Customer satisfaction ratings: the service's rules, the low-score reopen and the signed link."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import mail, signing

from partner_portal.models import AuditEvent
from tests.factories.tickets import offering, ticket
from tickets.errors import TicketInvalid, TransitionNotAllowed
from tickets.models import Ticket, TicketMessage, TicketRating
from tickets.services import (
    TicketChanges,
    rating_link_read,
    rating_link_token,
    ticket_rate,
    ticket_status_change,
    ticket_update,
)

pytestmark = pytest.mark.django_db
S = Ticket.Status


def resolved(tenant, **fields) -> Ticket:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, **fields)
    ticket_update(ticket=t, actor=tenant.admin, changes=TicketChanges(assignee=tenant.agent))
    return ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)


def test_a_customer_rates_a_resolved_ticket_once(tenant) -> None:
    t = resolved(tenant, product_family="azure")
    rating = ticket_rate(ticket=t, score=5, comment=" Quick and clear. ", actor=tenant.customer_member)
    assert (rating.score, rating.comment, rating.rated_by) == (5, "Quick and clear.", tenant.customer_member)
    assert rating.agent == tenant.agent
    assert rating.product_family == "azure"
    assert rating.partner == tenant.partner
    event = AuditEvent.objects.get(action="ticket.rated", target_id=str(t.pk))
    assert event.data == {"score": 5, "comment": True, "by_link": False}
    assert event.actor == tenant.customer_member
    t.refresh_from_db()
    assert t.status == S.RESOLVED  # a good score leaves it resolved
    with pytest.raises(TransitionNotAllowed, match="rated already"):
        ticket_rate(ticket=t, score=4, comment="", actor=tenant.customer_admin)
    assert TicketRating.objects.get(ticket=t).score == 5


def test_a_closed_ticket_can_be_rated(tenant) -> None:
    t = resolved(tenant)
    ticket_status_change(ticket=t, status=S.CLOSED, actor=tenant.agent)
    assert ticket_rate(ticket=t, score=4, comment="", actor=tenant.customer_admin).score == 4


@pytest.mark.parametrize("status", [S.NEW, S.OPEN, S.PENDING_CUSTOMER, S.ESCALATED])
def test_only_a_resolved_ticket_can_be_rated(tenant, status) -> None:
    t = ticket(tenant.customer)
    if status != S.NEW:
        ticket_status_change(ticket=t, status=status, actor=tenant.agent)
    with pytest.raises(TransitionNotAllowed, match="resolved"):
        ticket_rate(ticket=t, score=5, comment="", actor=tenant.customer_admin)
    assert not TicketRating.objects.exists()


def test_only_the_tickets_own_customer_rates(tenant, other_tenant) -> None:
    t = resolved(tenant)
    for actor in (tenant.other_customer_admin, other_tenant.customer_admin, tenant.agent, tenant.admin, None):
        with pytest.raises(TicketInvalid, match="customer's users"):
            ticket_rate(ticket=t, score=5, comment="", actor=actor)
    assert not TicketRating.objects.exists()
    assert not AuditEvent.objects.filter(action="ticket.rated").exists()


@pytest.mark.parametrize("score", [0, 6, -1])
def test_a_score_is_one_to_five(tenant, score) -> None:
    t = resolved(tenant)
    with pytest.raises(TicketInvalid) as caught:
        ticket_rate(ticket=t, score=score, comment="", actor=tenant.customer_admin)
    assert "score" in caught.value.fields
    assert not TicketRating.objects.exists()


def test_a_low_score_reopens_with_the_comment_as_a_message(tenant, on_commit) -> None:
    offering(tenant.partner)
    t = resolved(tenant)
    mail.outbox.clear()
    with on_commit():
        ticket_rate(ticket=t, score=2, comment="Still broken on my laptop.", actor=tenant.customer_admin)
    t.refresh_from_db()
    assert t.status == S.OPEN
    assert t.resolved_at is None
    message = TicketMessage.objects.get(ticket=t)
    assert (message.body, message.author, message.internal) == (
        "Still broken on my laptop.",
        tenant.customer_admin,
        False,
    )
    change = AuditEvent.objects.get(action="ticket.status_changed", target_id=str(t.pk), data__to=S.OPEN)
    assert change.data["by_customer"] is True
    assert change.data["from"] == S.RESOLVED
    # The customer hears the ticket is open again; the assignee gets the comment.
    subjects = {m.subject: m.to for m in mail.outbox}
    assert any("open" in s.lower() and to == [tenant.customer_admin.email] for s, to in subjects.items())
    assert any(to == [tenant.agent.email] and "Still broken" in m.body for m in mail.outbox for to in [m.to])


def test_a_low_score_reopens_a_closed_ticket_too(tenant) -> None:
    t = resolved(tenant)
    ticket_status_change(ticket=t, status=S.CLOSED, actor=tenant.agent)
    ticket_rate(ticket=t, score=1, comment="", actor=tenant.customer_admin)
    t.refresh_from_db()
    assert t.status == S.OPEN
    assert t.closed_at is None
    assert not TicketMessage.objects.filter(ticket=t).exists()  # no comment, no message


def test_a_rating_link_names_its_ticket_and_expires_after_30_days(tenant) -> None:
    t = resolved(tenant)
    token = rating_link_token(t)
    assert rating_link_read(token) == (t.pk, tenant.partner.pk)
    with pytest.raises(TicketInvalid, match="not valid"):
        rating_link_read(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(TicketInvalid, match="not valid"):
        rating_link_read(signing.dumps({"t": t.pk}, salt="another.purpose"))
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 29 * 24 * 3600):
        assert rating_link_read(token) == (t.pk, tenant.partner.pk)
    later = time.time() + 31 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=later), pytest.raises(TicketInvalid, match="expired"):
        rating_link_read(token)


def test_a_low_rating_by_link_puts_the_comment_under_the_opener(tenant) -> None:
    t = resolved(tenant)  # opened by the customer admin
    ticket_rate(ticket=t, score=1, comment="Nothing changed.", actor=None, by_link=True)
    message = TicketMessage.objects.get(ticket=t)
    assert (message.author, message.body) == (tenant.customer_admin, "Nothing changed.")
    staff_opened = ticket(tenant.customer, opened_by=tenant.agent)
    ticket_status_change(ticket=staff_opened, status=S.RESOLVED, actor=tenant.agent)
    ticket_rate(ticket=staff_opened, score=2, comment="Still slow.", actor=None, by_link=True)
    message = TicketMessage.objects.get(ticket=staff_opened)
    assert message.author is None
    assert message.email_from in (tenant.customer.billing_email, tenant.customer.name)
    assert message.email_from


def test_a_rating_by_link_has_no_user(tenant) -> None:
    t = resolved(tenant)
    rating = ticket_rate(ticket=t, score=3, comment="", actor=None, by_link=True)
    assert rating.rated_by is None
    assert AuditEvent.objects.get(action="ticket.rated").data["by_link"] is True
