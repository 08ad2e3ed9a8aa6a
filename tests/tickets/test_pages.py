"""Ticket pages: access matrix, the agents' queue (tabs, filters, breach flags, query counts, bulk
assign), the ticket pages of both sides, the support offering page and the customer support page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from partner_portal import clock
from tests.conftest import make_tenant
from tests.factories.billing import issued
from tests.factories.tickets import offering, ticket
from tickets.models import SupportOffering, Ticket, TimeEntry
from tickets.services import ticket_message_add, ticket_status_change

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)  # Tuesday noon


def test_anonymous_is_sent_to_sign_in(tenant) -> None:
    t = ticket(tenant.customer)
    for url in (
        reverse("ticket_list"), reverse("ticket_detail", args=[t.pk]), reverse("support_offering"),
        reverse("customer_support"), reverse("customer_ticket_detail", args=[t.pk]), reverse("customer_ticket_create"),
    ):  # fmt: skip
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_roles(tenant, client_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    staff_urls = [
        reverse("ticket_list"),
        reverse("ticket_detail", args=[t.pk]),
        reverse("ticket_create"),
        reverse("support_offering"),
    ]
    customer_urls = [
        reverse("customer_support"),
        reverse("customer_ticket_detail", args=[t.pk]),
        reverse("customer_ticket_create"),
    ]
    for user in (tenant.admin, tenant.finance, tenant.agent):
        assert [client_for(user).get(u).status_code for u in staff_urls] == [200] * 4
        assert [client_for(user).get(u).status_code for u in customer_urls] == [403] * 3
    for user in (tenant.customer_admin, tenant.customer_member):
        assert [client_for(user).get(u).status_code for u in staff_urls] == [403] * 4
        assert [client_for(user).get(u).status_code for u in customer_urls] == [200] * 3


def test_foreign_tickets_are_not_found(tenant, other_tenant, client_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    assert client_for(other_tenant.agent).get(reverse("ticket_detail", args=[t.pk])).status_code == 404
    assert (
        client_for(tenant.other_customer_admin).get(reverse("customer_ticket_detail", args=[t.pk])).status_code == 404
    )
    assert (
        client_for(other_tenant.customer_admin).get(reverse("customer_ticket_detail", args=[t.pk])).status_code == 404
    )
    posted = client_for(other_tenant.agent).post(reverse("ticket_reply", args=[t.pk]), {"body": "hi"})
    assert posted.status_code == 404
    posted = client_for(tenant.other_customer_admin).post(
        reverse("customer_ticket_detail", args=[t.pk]), {"body": "hi"}
    )
    assert posted.status_code == 404
    assert t.messages.count() == 0


def test_internal_notes_on_pages(tenant, client_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    ticket_message_add(ticket=t, author=tenant.agent, body="Reseller tenant mismatch, keep quiet.", internal=True)
    ticket_message_add(ticket=t, author=tenant.agent, body="We are on it.", internal=False)
    staff = client_for(tenant.agent).get(reverse("ticket_detail", args=[t.pk])).content.decode()
    assert "Reseller tenant mismatch, keep quiet." in staff
    assert "Internal note" in staff
    assert "We are on it." in staff
    customer = client_for(tenant.customer_admin).get(reverse("customer_ticket_detail", args=[t.pk])).content.decode()
    assert "We are on it." in customer
    assert "Reseller tenant mismatch" not in customer
    assert "Internal note" not in customer


def test_staff_ticket_page_has_the_escalation_slot(tenant, client_for) -> None:
    t = ticket(tenant.customer)
    page = client_for(tenant.agent).get(reverse("ticket_detail", args=[t.pk])).content.decode()
    assert reverse("ticket_escalate", args=[t.pk]) in page


def test_queue_tabs_and_breach_flags(tenant, client_for, django_assert_max_num_queries) -> None:
    offering(tenant.partner)
    with clock.frozen(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)):
        breached = ticket(tenant.customer, severity="A", subject="Exchange down")  # response due 10:00
    with clock.frozen(dt.datetime(2026, 12, 1, 11, 30, tzinfo=dt.UTC)):
        soon = ticket(tenant.customer, severity="A", subject="Teams calls drop", assignee=tenant.agent)  # 12:30
        calm = ticket(tenant.other_customer, severity="C", subject="Add a user")
    escalated = ticket(tenant.customer, subject="Azure quota")
    ticket_status_change(ticket=escalated, status=Ticket.Status.ESCALATED, actor=tenant.agent)
    client = client_for(tenant.agent)

    def listed(query: str = "") -> list[str]:
        with clock.frozen(NOW), django_assert_max_num_queries(12):
            response = client.get(reverse("ticket_list") + query)
        page = response.content.decode()
        return [t.subject for t in (breached, soon, calm, escalated) if t.subject in page]

    assert listed() == ["Exchange down", "Teams calls drop", "Add a user", "Azure quota"]
    assert listed("?view=mine") == ["Teams calls drop"]
    assert listed("?view=unassigned") == ["Exchange down", "Add a user", "Azure quota"]
    assert listed("?view=breaching") == ["Exchange down", "Teams calls drop"]
    assert listed("?view=escalated") == ["Azure quota"]
    assert listed("?severity=C") == ["Add a user", "Azure quota"]
    assert listed(f"?customer={tenant.other_customer.pk}") == ["Add a user"]
    assert listed(f"?q={soon.reference}") == ["Teams calls drop"]
    assert listed("?q=exchange&status=new") == ["Exchange down"]
    with clock.frozen(NOW):
        page = client.get(reverse("ticket_list")).content.decode()
    assert "SLA breached" in page
    assert "Breaching soon" in page


def test_queue_query_count_is_fixed(tenant, client_for, django_assert_max_num_queries) -> None:
    client = client_for(tenant.agent)
    ticket(tenant.customer)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("ticket_list"))
    for _ in range(15):
        ticket(tenant.other_customer, assignee=tenant.agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("ticket_list"))
    assert response.content.decode().count('name="tickets"') == 16


def test_queue_pages_by_keyset(tenant, client_for) -> None:
    for n in range(30):
        with clock.frozen(NOW + dt.timedelta(minutes=n)):
            ticket(tenant.customer, subject=f"Question {n:02d}")
    client = client_for(tenant.agent)
    first = client.get(reverse("ticket_list")).context["page"]
    assert [t.subject for t in first.items][:2] == ["Question 29", "Question 28"]
    assert len(first.items) == 25
    second = client.get(reverse("ticket_list"), {"cursor": first.next_cursor}).context["page"]
    assert [t.subject for t in second.items] == [f"Question {n:02d}" for n in range(4, -1, -1)]


def test_bulk_assign(tenant, other_tenant, client_for) -> None:
    mine = [ticket(tenant.customer), ticket(tenant.customer)]
    foreign = ticket(other_tenant.customer)
    response = client_for(tenant.admin).post(
        reverse("ticket_bulk_assign"),
        {"tickets": [mine[0].pk, mine[1].pk], "assignee": tenant.agent.pk, "next": "/staff/tickets/?view=mine"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/staff/tickets/?view=mine"
    assert set(Ticket.objects.filter(assignee=tenant.agent).values_list("pk", flat=True)) == {mine[0].pk, mine[1].pk}
    refused = client_for(tenant.admin).post(
        reverse("ticket_bulk_assign"), {"tickets": [foreign.pk], "assignee": tenant.agent.pk}
    )
    assert refused.status_code == 302
    foreign.refresh_from_db()
    assert foreign.assignee is None


def test_staff_opens_a_ticket_for_a_customer(tenant, client_for) -> None:
    invoice = issued(tenant.customer)
    response = client_for(tenant.agent).post(
        reverse("ticket_create"),
        {"customer": tenant.customer.pk, "subject": "Called about a charge", "description": "Asked by phone.",
         "category": "billing", "product_family": "azure", "severity": "C", "assignee": tenant.agent.pk,
         "invoices": [invoice.pk]},
    )  # fmt: skip
    created = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ticket_detail", args=[created.pk])
    assert (created.opened_by, created.assignee, list(created.invoices.all())) == (
        tenant.agent,
        tenant.agent,
        [invoice],
    )


def test_staff_reply_status_edit_and_time(tenant, client_for) -> None:
    with clock.frozen(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)):  # opened before the time recorded on it
        t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    client = client_for(tenant.agent)
    assert (
        client.post(reverse("ticket_reply", args=[t.pk]), {"body": "Note to self", "internal": "on"}).status_code == 302
    )
    assert client.post(reverse("ticket_status", args=[t.pk]), {"status": "pending_customer"}).status_code == 302
    assert client.post(reverse("ticket_edit", args=[t.pk]), {"category": "technical", "product_family": "azure",
                                                            "severity": "A", "assignee": tenant.agent.pk}).status_code == 302  # fmt: skip
    assert client.post(reverse("ticket_time", args=[t.pk]), {"minutes": "45", "worked_on": "2026-11-30", "billable": "on",
                                                            "note": "Remote session"}).status_code == 302  # fmt: skip
    t.refresh_from_db()
    assert (t.status, t.severity, t.product_family, t.assignee) == ("pending_customer", "A", "azure", tenant.agent)
    assert t.messages.get().internal is True
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.billable, entry.agent, entry.worked_on) == (
        45,
        True,
        tenant.agent,
        dt.date(2026, 11, 30),
    )
    bad = client.post(reverse("ticket_status", args=[t.pk]), {"status": "new"})
    assert bad.status_code == 400
    assert "A ticket that is waiting on customer cannot become new." in bad.content.decode()


def test_customer_opens_replies_and_closes(tenant, client_for) -> None:
    offering(tenant.partner, price_model="hourly", price_amount="120.00")
    client = client_for(tenant.customer_member)
    form = client.get(reverse("customer_ticket_create")).content.decode()
    assert "120.00 USD per hour of billable work" in form
    response = client.post(
        reverse("customer_ticket_create"),
        {"subject": "Teams will not start", "description": "Error 0x80", "category": "technical",
         "product_family": "microsoft_365", "severity": "B"},
    )  # fmt: skip
    t = Ticket.objects.get()
    assert response["Location"] == reverse("customer_ticket_detail", args=[t.pk])
    assert (t.customer, t.opened_by) == (tenant.customer, tenant.customer_member)
    ticket_status_change(ticket=t, status=Ticket.Status.PENDING_CUSTOMER, actor=tenant.agent)
    client.post(reverse("customer_ticket_detail", args=[t.pk]), {"body": "Reinstalled, same error."})
    t.refresh_from_db()
    assert t.status == Ticket.Status.OPEN
    ticket_status_change(ticket=t, status=Ticket.Status.RESOLVED, actor=tenant.agent)
    client.post(reverse("customer_ticket_status", args=[t.pk]), {"status": "closed"})
    t.refresh_from_db()
    assert t.status == Ticket.Status.CLOSED


def test_customer_support_page_shows_offering_and_own_tickets(
    tenant, client_for, django_assert_max_num_queries
) -> None:
    offering(tenant.partner, time_zone="Europe/London", contact_email="help@alpha.example",
             holidays={dt.date(2026, 12, 25): "Christmas Day"})  # fmt: skip
    own = ticket(tenant.customer, subject="Our own question")
    ticket(tenant.other_customer, subject="Someone else's question")
    client = client_for(tenant.customer_admin)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("customer_support")).content.decode()
    assert "Our own question" in page
    assert own.reference in page
    assert "Someone else" not in page
    assert "Times in Europe/London." in page
    assert "Christmas Day" in page
    assert "help@alpha.example" in page
    assert "Included in the price of your subscriptions: no extra charge." in page


def test_offering_page_admin_saves_others_read(tenant, client_for) -> None:
    data = {
        "time_zone": "Europe/Paris", "hours_mon": "09:00-12:00, 14:00-18:00", "hours_tue": "9:00-18:00", "hours_wed": "",
        "hours_thu": "09:00-18:00", "hours_fri": "09:00-17:00", "hours_sat": "", "hours_sun": "closed",
        "contact_portal": "on", "contact_email": "support@alpha.example", "contact_phone": "", "contact_notes": "",
        "price_model": "per_incident", "price_amount": "50", "currency": "EUR",
        "holidays": "2026-12-25 Noël\n2027-01-01 Jour de l'an",
        "first_response_minutes_a": "30", "resolution_minutes_a": "240", "first_response_minutes_b": "120",
        "resolution_minutes_b": "960", "first_response_minutes_c": "480", "resolution_minutes_c": "2400",
    }  # fmt: skip
    assert client_for(tenant.agent).post(reverse("support_offering"), data).status_code == 404
    response = client_for(tenant.admin).post(reverse("support_offering"), data)
    assert response.status_code == 302
    saved = SupportOffering.objects.get(partner=tenant.partner)
    assert saved.hours["mon"] == [["09:00", "12:00"], ["14:00", "18:00"]]
    assert saved.hours["tue"] == [["09:00", "18:00"]]
    assert (saved.hours["wed"], saved.hours["sun"]) == ([], [])
    assert [(h.date.isoformat(), h.name) for h in saved.holidays.all()] == [
        ("2026-12-25", "Noël"),
        ("2027-01-01", "Jour de l'an"),
    ]
    assert (saved.price_model, str(saved.price_amount), saved.first_response_minutes_a) == ("per_incident", "50.00", 30)
    agent_view = client_for(tenant.agent).get(reverse("support_offering")).content.decode()
    assert "Partner admins change the offering." in agent_view
    bad = client_for(tenant.admin).post(
        reverse("support_offering"), {**data, "hours_mon": "18:00-09:00", "price_amount": ""}
    )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "mon: a period must start before it ends (18:00-09:00)." in text
    assert "Give the price this price model charges (more than zero)." in text


def test_customer_home_has_the_support_card(tenant, client_for) -> None:
    offering(tenant.partner, price_model="per_incident", price_amount="60.00", contact_email="help@alpha.example")
    waiting = ticket(tenant.customer)
    ticket_status_change(ticket=waiting, status=Ticket.Status.PENDING_CUSTOMER, actor=tenant.agent)
    ticket(tenant.customer)
    ticket(tenant.other_customer)
    response = client_for(tenant.customer_admin).get(reverse("customer_home"))
    assert response.status_code == 200
    card = response.context["support"]
    assert card["tickets"] == {"open": 1, "waiting": 1, "resolved": 0}
    page = response.content.decode()
    assert "Support requests" in page
    assert "60.00 USD per incident, billed on your next invoice." in page
    assert reverse("customer_ticket_create") in page


def test_staff_dashboard_shows_the_support_queue(tenant, client_for) -> None:
    ticket(tenant.customer)
    ticket(tenant.customer, assignee=tenant.agent)
    response = client_for(tenant.agent).get(reverse("staff_dashboard"))
    counts = {name: (count.value, count.more) for name, count in response.context["ticket_queue"].items()}
    assert counts == {"mine": (1, False), "unassigned": (1, False), "breaching": (0, False), "escalated": (0, False),
                      "active": (2, False)}  # fmt: skip
    assert "/staff/tickets/?view=unassigned" in response.content.decode()


def test_queue_tabs_stop_counting_at_the_cap(tenant, client_for, monkeypatch) -> None:
    from tickets import selectors

    monkeypatch.setattr(selectors, "QUEUE_COUNT_CAP", 2)
    for _ in range(3):
        ticket(tenant.customer, assignee=tenant.agent)
    ticket(tenant.customer)
    ticket(tenant.other_customer)
    closed = ticket(tenant.customer, assignee=tenant.agent)
    closed.status = Ticket.Status.CLOSED
    closed.save(update_fields=["status"])
    ticket(make_tenant("Beta").customer)  # another partner's ticket is never counted
    response = client_for(tenant.agent).get(reverse("ticket_list"))
    counts = response.context["counts"]
    assert {name: str(count) for name, count in counts.items()} == {
        "mine": "2+", "unassigned": "2", "breaching": "0", "escalated": "0", "active": "2+",
    }  # fmt: skip
    html = response.content.decode()
    assert '<span class="badge">2+</span>' in html
    monkeypatch.setattr(selectors, "QUEUE_COUNT_CAP", 1000)
    exact = client_for(tenant.agent).get(reverse("ticket_list")).context["counts"]
    assert (exact["mine"].value, exact["unassigned"].value, exact["active"].value) == (3, 2, 5)
    assert not exact["escalated"]


def test_the_status_form_preselects_no_move(tenant, client_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    ticket_status_change(ticket=t, status="escalated", actor=tenant.agent)
    page = client_for(tenant.agent).get(reverse("ticket_detail", args=[t.pk])).content.decode()
    form = page[page.index('name="status"') : page.index("</select>", page.index('name="status"'))]
    assert '<option value="" selected>Choose the new status</option>' in form
    assert 'value="open"' in form
    assert 'value="escalated"' not in form  # the current status is not offered as a move
    refused = client_for(tenant.agent).post(reverse("ticket_status", args=[t.pk]), {"status": ""})
    assert refused.status_code == 400
    t.refresh_from_db()
    assert t.status == "escalated"
