"""Tickets services: opening, SLA due times, the workflow, pause and resume, replies and notes, emails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from partner_portal import clock
from partner_portal.models import AuditEvent, Language
from tests.factories.billing import draft, issued
from tests.factories.tickets import offering, ticket
from tickets.errors import TicketInvalid, TransitionNotAllowed
from tickets.models import Ticket, TicketMessage
from tickets.services import TicketChanges, ticket_message_add, ticket_status_change, ticket_update, tickets_assign

pytestmark = pytest.mark.django_db
S = Ticket.Status
UTC = dt.UTC


def at(d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, d, hh, mm, tzinfo=UTC)


def test_opening_numbers_tickets_per_partner_and_sets_due_times(tenant, other_tenant) -> None:
    offering(tenant.partner)  # Monday to Friday 09:00-18:00 UTC; B: 240 / 1440 business minutes
    with clock.frozen(at(1, 10)):  # Tuesday
        first = ticket(tenant.customer, opened_by=tenant.customer_admin, severity="B")
        second = ticket(tenant.customer, opened_by=tenant.customer_admin, severity="A")
        foreign = ticket(other_tenant.customer)
    assert (first.number, second.number, foreign.number) == (1, 2, 1)
    assert first.reference == "T-000001"
    assert first.status == S.NEW
    assert first.first_response_due == at(1, 14)
    assert first.resolution_due == at(3, 16)
    assert second.first_response_due == at(1, 11)  # A: 60 minutes
    assert second.resolution_due == at(1, 18)  # A: 480 minutes, exactly the rest of Tuesday
    event = AuditEvent.objects.get(action="ticket.created", target_id=str(first.pk))
    assert event.actor == tenant.customer_admin
    assert event.data["by_customer"] is True


def test_opened_out_of_hours_starts_the_clock_next_morning(tenant) -> None:
    offering(tenant.partner)
    with clock.frozen(at(5, 11)):  # Saturday
        t = ticket(tenant.customer, severity="A")
    assert t.first_response_due == at(7, 10)
    assert t.resolution_due == at(7, 17)


def test_billing_ticket_links_only_the_customers_own_issued_invoices(tenant) -> None:
    own = issued(tenant.customer)
    foreign = issued(tenant.other_customer)
    t = ticket(tenant.customer, category="billing", invoices=[own])
    assert list(t.invoices.all()) == [own]
    with pytest.raises(TicketInvalid):
        ticket(tenant.customer, category="billing", invoices=[foreign])
    with pytest.raises(TicketInvalid):
        ticket(tenant.customer, category="billing", invoices=[draft(tenant.customer)])
    assert Ticket.objects.count() == 1


def test_assignee_must_be_the_partners_staff(tenant, other_tenant) -> None:
    with pytest.raises(TicketInvalid):
        ticket(tenant.customer, assignee=other_tenant.agent)
    with pytest.raises(TicketInvalid):
        ticket(tenant.customer, assignee=tenant.customer_admin)
    assert ticket(tenant.customer, assignee=tenant.agent).assignee == tenant.agent


def test_staff_workflow(tenant) -> None:
    t = ticket(tenant.customer)
    for status in (S.OPEN, S.ESCALATED, S.OPEN, S.RESOLVED, S.OPEN, S.CLOSED, S.OPEN):
        t = ticket_status_change(ticket=t, status=status, actor=tenant.agent)
        assert t.status == status
    t = ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)
    with pytest.raises(TransitionNotAllowed):
        ticket_status_change(ticket=t, status=S.PENDING_CUSTOMER, actor=tenant.agent)
    with pytest.raises(TransitionNotAllowed):
        ticket_status_change(ticket=t, status="nonsense", actor=tenant.agent)
    changes = AuditEvent.objects.filter(action="ticket.status_changed", target_id=str(t.pk)).order_by("pk")
    assert [(e.data["from"], e.data["to"]) for e in changes][:3] == [
        ("new", "open"),
        ("open", "escalated"),
        ("escalated", "open"),
    ]


def test_resolved_and_closed_times(tenant) -> None:
    t = ticket(tenant.customer)
    with clock.frozen(at(2, 10)):
        t = ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)
    assert t.resolved_at == at(2, 10)
    with clock.frozen(at(3, 10)):
        t = ticket_status_change(ticket=t, status=S.CLOSED, actor=tenant.customer_admin)
    assert (t.resolved_at, t.closed_at) == (at(2, 10), at(3, 10))
    with clock.frozen(at(3, 11)):
        t = ticket_status_change(ticket=t, status=S.OPEN, actor=tenant.agent)
    assert (t.resolved_at, t.closed_at) == (None, None)


def test_customer_may_only_close_or_reopen_a_resolved_ticket(tenant) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    for status in (S.OPEN, S.RESOLVED, S.CLOSED, S.ESCALATED):
        with pytest.raises(TransitionNotAllowed):
            ticket_status_change(ticket=t, status=status, actor=tenant.customer_admin)
    t = ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)
    t = ticket_status_change(ticket=t, status=S.OPEN, actor=tenant.customer_admin)
    assert t.status == S.OPEN
    t = ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)
    t = ticket_status_change(ticket=t, status=S.CLOSED, actor=tenant.customer_member)
    assert t.status == S.CLOSED
    with pytest.raises(TransitionNotAllowed):
        ticket_status_change(ticket=t, status=S.OPEN, actor=tenant.customer_admin)


def test_waiting_on_the_customer_pauses_the_clock_and_moves_the_due_times(tenant) -> None:
    offering(tenant.partner)
    with clock.frozen(at(1, 10)):  # Tuesday 10:00, severity B: response 14:00, resolution Thu 16:00
        t = ticket(tenant.customer, opened_by=tenant.customer_admin, severity="B")
    with clock.frozen(at(1, 11)):
        t = ticket_status_change(ticket=t, status=S.PENDING_CUSTOMER, actor=tenant.agent)
    assert t.sla_paused_at == at(1, 11)
    with clock.frozen(at(2, 10)):  # the customer answers on Wednesday 10:00: 8 business hours later
        ticket_message_add(ticket=t, author=tenant.customer_admin, body="Here is the log.", internal=False)
    t.refresh_from_db()
    assert t.status == S.OPEN
    assert t.sla_paused_at is None
    assert t.first_response_due == at(2, 13)  # 14:00 Tue + 8 business hours
    assert t.resolution_due == at(4, 15)  # 16:00 Thu + 8 business hours


def test_pause_across_a_weekend_counts_only_business_time(tenant) -> None:
    offering(tenant.partner)
    with clock.frozen(at(4, 9)):  # Friday, severity C: resolution 2880 min later
        t = ticket(tenant.customer, severity="C")
        t = ticket_status_change(ticket=t, status=S.OPEN, actor=tenant.agent)
    due = t.resolution_due
    with clock.frozen(at(4, 17)):
        t = ticket_status_change(ticket=t, status=S.PENDING_CUSTOMER, actor=tenant.agent)
    with clock.frozen(at(7, 10)):  # Monday 10:00: one hour on Friday and one on Monday paused
        t = ticket_status_change(ticket=t, status=S.OPEN, actor=tenant.agent)
    assert due == at(11, 12)  # 540 a day: Fri, Mon, Tue, Wed, Thu make 2700, then 180 on the next Friday
    assert t.resolution_due == at(11, 14)


def test_a_breach_before_the_pause_stays_a_breach(tenant) -> None:
    offering(tenant.partner)
    with clock.frozen(at(1, 10)):
        t = ticket(tenant.customer, severity="A")  # response due 11:00
    with clock.frozen(at(1, 12)):
        t = ticket_status_change(ticket=t, status=S.PENDING_CUSTOMER, actor=tenant.agent)
    with clock.frozen(at(1, 15)):
        t = ticket_status_change(ticket=t, status=S.OPEN, actor=tenant.agent)
    assert t.first_response_due == at(1, 11)
    assert t.resolution_due == at(2, 12)  # 18:00 Tuesday + 3 paused hours


def test_first_public_staff_reply_sets_first_response_and_opens(tenant) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    with clock.frozen(at(1, 12)):
        ticket_message_add(ticket=t, author=tenant.agent, body="Looking into it.", internal=True)
    t.refresh_from_db()
    assert (t.first_responded_at, t.status) == (None, S.NEW)  # an internal note is no response
    with clock.frozen(at(1, 13)):
        ticket_message_add(ticket=t, author=tenant.agent, body="Please restart Outlook.", internal=False)
    with clock.frozen(at(1, 14)):
        ticket_message_add(ticket=t, author=tenant.admin, body="And clear the cache.", internal=False)
    t.refresh_from_db()
    assert (t.first_responded_at, t.status) == (at(1, 13), S.OPEN)


def test_only_staff_write_internal_notes_and_only_the_own_customer_replies(tenant, other_tenant) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    with pytest.raises(TicketInvalid):
        ticket_message_add(ticket=t, author=tenant.customer_admin, body="secret", internal=True)
    with pytest.raises(TicketInvalid):
        ticket_message_add(ticket=t, author=tenant.other_customer_admin, body="hello", internal=False)
    with pytest.raises(TicketInvalid):
        ticket_message_add(ticket=t, author=other_tenant.agent, body="hello", internal=False)
    with pytest.raises(TicketInvalid):
        ticket_message_add(ticket=t, author=tenant.agent, body="   ", internal=False)
    assert TicketMessage.objects.count() == 0


def test_closed_ticket_takes_no_customer_reply(tenant) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    ticket_status_change(ticket=t, status=S.CLOSED, actor=tenant.agent)
    with pytest.raises(TransitionNotAllowed):
        ticket_message_add(ticket=t, author=tenant.customer_admin, body="one more thing", internal=False)


def test_severity_change_recomputes_due_times_from_opening(tenant) -> None:
    offering(tenant.partner)
    with clock.frozen(at(1, 10)):
        t = ticket(tenant.customer, severity="C")
    with clock.frozen(at(1, 12)):
        t = ticket_update(ticket=t, actor=tenant.agent, changes=TicketChanges(severity="A", assignee=tenant.agent))
    assert (t.first_response_due, t.resolution_due, t.assignee) == (at(1, 11), at(1, 18), tenant.agent)
    event = AuditEvent.objects.get(action="ticket.updated", target_id=str(t.pk))
    assert event.data == {"severity": "A", "assignee": tenant.agent.email}


def test_bulk_assign_touches_only_the_partners_tickets(tenant, other_tenant) -> None:
    mine = [ticket(tenant.customer), ticket(tenant.other_customer)]
    foreign = ticket(other_tenant.customer)
    changed = tickets_assign(
        partner=tenant.partner,
        ticket_ids=[mine[0].pk, mine[1].pk, foreign.pk],
        assignee=tenant.agent,
        actor=tenant.admin,
    )
    assert changed == 2
    assert set(Ticket.objects.filter(assignee=tenant.agent).values_list("pk", flat=True)) == {mine[0].pk, mine[1].pk}
    foreign.refresh_from_db()
    assert foreign.assignee is None
    with pytest.raises(TicketInvalid):
        tickets_assign(partner=tenant.partner, ticket_ids=[mine[0].pk], assignee=other_tenant.agent, actor=tenant.admin)


# ---- Emails -------------------------------------------------------------------------------------


def test_confirmation_to_the_customer_carries_the_offering_and_agents_hear_of_it(tenant, on_commit) -> None:
    offering(
        tenant.partner, time_zone="Europe/London", contact_email="help@alpha.example", contact_phone="+44 20 7946 0000",
        price_model="per_incident", price_amount="75.00", currency="GBP",
        holidays={dt.date(2026, 12, 25): "Christmas Day"},
    )  # fmt: skip
    with on_commit():
        t = ticket(tenant.customer, opened_by=tenant.customer_admin, severity="B")
    to_customer = [m for m in mail.outbox if m.to == [tenant.customer_admin.email]]
    assert len(to_customer) == 1
    email = to_customer[0]
    assert email.subject == f"We received your request {t.reference}: Cannot sign in to Outlook"
    assert "first response within 4 hours, resolution within 24 hours" in email.body
    assert "Hours of service (Europe/London):" in email.body
    assert "  Monday: 09:00–18:00" in email.body
    assert "  Saturday: closed" in email.body
    assert "Christmas Day" in email.body
    assert "help@alpha.example" in email.body
    assert "+44 20 7946 0000" in email.body
    assert "75.00 GBP per incident, billed on your next invoice." in email.body
    assert email.alternatives[0][1] == "text/html"
    assert "75.00 GBP per incident" in email.alternatives[0][0]
    assert email.reply_to == ["help@alpha.example"]
    staff = sorted(m.to[0] for m in mail.outbox if m.to != [tenant.customer_admin.email])
    assert staff == sorted([tenant.agent.email, tenant.admin.email])  # unassigned: the agents and admins


def test_customer_emails_are_in_the_customers_language(tenant, on_commit) -> None:
    tenant.customer.language = Language.RU
    tenant.customer.save()
    with on_commit():
        t = ticket(tenant.customer, opened_by=tenant.customer_admin, assignee=tenant.agent)
    to_customer = next(m for m in mail.outbox if m.to == [tenant.customer_admin.email])
    assert to_customer.body.startswith("Здравствуйте!")
    assert "  Понедельник: 09:00–18:00" in to_customer.body
    assert '<html lang="ru">' in to_customer.alternatives[0][0]
    to_agent = next(m for m in mail.outbox if m.to == [tenant.agent.email])  # the agent reads English
    assert to_agent.subject == f"New ticket {t.reference} from {tenant.customer.name}: Cannot sign in to Outlook"


def test_internal_notes_are_never_emailed(tenant, on_commit) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, assignee=tenant.agent)
    mail.outbox.clear()
    with on_commit():
        ticket_message_add(
            ticket=t, author=tenant.agent, body="Customer is on the old tenant, do not tell them.", internal=True
        )
    assert mail.outbox == []
    with on_commit():
        ticket_message_add(ticket=t, author=tenant.agent, body="Please try again now.", internal=False)
    assert [m.to for m in mail.outbox] == [[tenant.customer_admin.email]]
    assert "Please try again now." in mail.outbox[0].body
    assert "old tenant" not in mail.outbox[0].body


def test_customer_reply_goes_to_the_assignee_and_status_changes_to_the_customer(tenant, on_commit) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, assignee=tenant.agent)
    mail.outbox.clear()
    with on_commit():
        ticket_message_add(ticket=t, author=tenant.customer_admin, body="Still broken.", internal=False)
    assert [m.to for m in mail.outbox] == [[tenant.agent.email]]
    assert (
        mail.outbox[0].subject
        == f"Customer replied on {t.reference} ({tenant.customer.name}): Cannot sign in to Outlook"
    )
    mail.outbox.clear()
    with on_commit():
        ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)
    assert [m.to for m in mail.outbox] == [[tenant.customer_admin.email]]
    assert mail.outbox[0].subject == f"{t.reference} is now resolved: Cannot sign in to Outlook"


def test_ticket_opened_by_staff_confirms_to_the_customers_billing_contact(tenant, on_commit) -> None:
    with on_commit():
        ticket(tenant.customer, opened_by=tenant.agent, assignee=tenant.agent)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([tenant.customer.billing_email, tenant.agent.email])


def test_emails_tell_the_status_as_of_the_event(tenant, on_commit) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, assignee=tenant.agent)
    mail.outbox.clear()
    with on_commit():  # the emails go out after the ticket has moved on
        ticket_status_change(ticket=t, status=S.PENDING_CUSTOMER, actor=tenant.agent)
        ticket_message_add(ticket=t, author=tenant.customer_admin, body="Here you go.", internal=False)
    status_email = next(m for m in mail.outbox if m.to == [tenant.customer_admin.email])
    assert status_email.subject == f"{t.reference} is now waiting on customer: Cannot sign in to Outlook"
    assert "We are waiting for your answer: reply on the ticket page to continue." in status_email.body
    t.refresh_from_db()
    assert t.status == S.OPEN
