"""API v1 tickets, messages and support offering: the access matrix and what each caller may do."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from partner_portal import clock
from tests.factories.billing import draft, issued
from tests.factories.tickets import offering, ticket
from tickets.models import SupportHoliday, SupportOffering, Ticket, TicketMessage
from tickets.services import ticket_message_add

pytestmark = pytest.mark.django_db
NEW = {"subject": "Invoice total looks wrong", "description": "INV-2026-000001 charges 12 seats, we have 10.",
       "category": "billing", "product_family": "microsoft_365", "severity": "B"}  # fmt: skip


def test_anonymous_gets_nothing(tenant) -> None:
    t = ticket(tenant.customer)
    client = APIClient()
    for url in (
        "/api/v1/tickets/",
        f"/api/v1/tickets/{t.pk}/",
        f"/api/v1/tickets/{t.pk}/messages/",
        "/api/v1/support-offering/",
    ):
        assert client.get(url).status_code in (401, 403)
    assert client.post("/api/v1/tickets/", {**NEW, "customer": tenant.customer.pk}).status_code in (401, 403)
    assert Ticket.objects.count() == 1


def test_staff_cannot_tie_a_ticket_to_a_draft_invoice(tenant, api_for) -> None:
    offering(tenant.partner)
    client = api_for(tenant.agent)
    body = {**NEW, "customer": tenant.customer.pk}
    response = client.post("/api/v1/tickets/", {**body, "invoices": [draft(tenant.customer).pk]})
    assert response.status_code == 400
    assert "invoices" in response.json()["fields"]
    assert client.post("/api/v1/tickets/", {**body, "invoices": [issued(tenant.customer).pk]}).status_code == 201


def test_customer_creates_for_its_own_customer_only(tenant, api_for) -> None:
    offering(tenant.partner)
    invoice = issued(tenant.customer)
    client = api_for(tenant.customer_admin)
    with clock.frozen(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)):
        response = client.post("/api/v1/tickets/", {**NEW, "invoices": [invoice.pk]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == "T-000001"
    assert (body["status"], body["severity"], body["invoices"]) == ("new", "B", [invoice.pk])
    assert body["first_response_due"] == "2026-12-01T14:00:00Z"
    assert "assignee" not in body
    created = Ticket.objects.get(pk=body["id"])
    assert (created.customer, created.opened_by) == (tenant.customer, tenant.customer_admin)

    other = client.post("/api/v1/tickets/", {**NEW, "customer": tenant.other_customer.pk})
    assert other.status_code == 400
    assert "customer" in other.json()["fields"]
    foreign_invoice = client.post("/api/v1/tickets/", {**NEW, "invoices": [issued(tenant.other_customer).pk]})
    assert foreign_invoice.status_code == 400
    assert "invoices" in foreign_invoice.json()["fields"]
    with_assignee = client.post("/api/v1/tickets/", {**NEW, "assignee": tenant.agent.pk})
    assert with_assignee.status_code == 400
    assert with_assignee.json()["fields"] == {"assignee": ["Only the partner's staff can set this."]}
    assert Ticket.objects.count() == 1


def test_staff_create_needs_a_customer_of_the_partner(tenant, other_tenant, api_for) -> None:
    client = api_for(tenant.agent)
    assert client.post("/api/v1/tickets/", NEW).json()["fields"] == {"customer": ["This field is required."]}
    assert client.post("/api/v1/tickets/", {**NEW, "customer": other_tenant.customer.pk}).status_code == 400
    response = client.post("/api/v1/tickets/", {**NEW, "customer": tenant.customer.pk, "assignee": tenant.agent.pk})
    assert response.status_code == 201
    assert response.json()["assignee"] == tenant.agent.pk


def test_lists_and_details_are_scoped(tenant, other_tenant, api_for, django_assert_max_num_queries) -> None:
    own = [ticket(tenant.customer) for _ in range(3)]
    sibling = ticket(tenant.other_customer)
    foreign = ticket(other_tenant.customer)
    with django_assert_max_num_queries(8):
        staff = api_for(tenant.agent).get("/api/v1/tickets/").json()
    assert sorted(r["id"] for r in staff["results"]) == sorted([*(t.pk for t in own), sibling.pk])
    customer = api_for(tenant.customer_admin).get("/api/v1/tickets/").json()
    assert sorted(r["id"] for r in customer["results"]) == sorted(t.pk for t in own)
    assert api_for(tenant.customer_admin).get(f"/api/v1/tickets/{sibling.pk}/").status_code == 404
    assert api_for(tenant.agent).get(f"/api/v1/tickets/{foreign.pk}/").status_code == 404
    assert api_for(tenant.agent).patch(f"/api/v1/tickets/{foreign.pk}/", {"status": "open"}).status_code == 404
    assert api_for(tenant.customer_admin).get(f"/api/v1/tickets/{sibling.pk}/messages/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "new"


def test_list_query_count_does_not_grow(tenant, api_for, django_assert_max_num_queries) -> None:
    for _ in range(12):
        ticket(tenant.customer, invoices=[issued(tenant.customer)])
    with django_assert_max_num_queries(8):
        assert len(api_for(tenant.agent).get("/api/v1/tickets/?view=active").json()["results"]) == 12


def test_filters(tenant, api_for) -> None:
    a = ticket(tenant.customer, severity="A", category="technical", assignee=tenant.agent, subject="VPN down")
    b = ticket(tenant.other_customer, severity="C", category="billing", subject="Invoice copy")
    client = api_for(tenant.agent)

    def ids(query: str) -> list[int]:
        return sorted(r["id"] for r in client.get(f"/api/v1/tickets/?{query}").json()["results"])

    assert ids("severity=A") == [a.pk]
    assert ids("category=billing") == [b.pk]
    assert ids(f"assignee={tenant.agent.pk}") == [a.pk]
    assert ids("view=unassigned") == [b.pk]
    assert ids("view=mine") == [a.pk]
    assert ids(f"search={b.reference}") == [b.pk]
    assert ids("search=vpn") == [a.pk]
    assert ids(f"customer={tenant.other_customer.pk}") == [b.pk]


def test_staff_patch_fields_and_status(tenant, api_for) -> None:
    t = ticket(tenant.customer)
    client = api_for(tenant.agent)
    due = "2026-12-10T12:00:00Z"
    response = client.patch(
        f"/api/v1/tickets/{t.pk}/",
        {"assignee": tenant.agent.pk, "status": "open", "resolution_due": due, "severity": "B"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["assignee"], body["status"], body["resolution_due"], body["severity"]) == (
        tenant.agent.pk,
        "open",
        due,
        "B",
    )
    refused = client.patch(f"/api/v1/tickets/{t.pk}/", {"status": "new"})
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "A ticket that is open cannot become new.",
        "code": "transition_not_allowed",
        "fields": {},
    }


def test_customer_patch_only_closes_or_reopens(tenant, api_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    client = api_for(tenant.customer_admin)
    assert client.patch(f"/api/v1/tickets/{t.pk}/", {"severity": "A"}).json()["fields"] == {
        "severity": ["Only the partner's staff can set this."]
    }
    assert client.patch(f"/api/v1/tickets/{t.pk}/", {"assignee": tenant.agent.pk}).status_code == 400
    assert client.patch(f"/api/v1/tickets/{t.pk}/", {"status": "resolved"}).status_code == 409
    api_for(tenant.agent).patch(f"/api/v1/tickets/{t.pk}/", {"status": "resolved"})
    assert client.patch(f"/api/v1/tickets/{t.pk}/", {"status": "closed"}).json()["status"] == "closed"
    t.refresh_from_db()
    assert (t.status, t.severity, t.assignee) == ("closed", "C", None)


def test_messages_internal_notes_only_for_staff(tenant, api_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    ticket_message_add(ticket=t, author=tenant.agent, body="Checked the tenant: licence missing.", internal=True)
    ticket_message_add(ticket=t, author=tenant.agent, body="We assigned the licence.", internal=False)
    staff = api_for(tenant.agent).get(f"/api/v1/tickets/{t.pk}/messages/").json()["results"]
    assert [(m["body"], m["internal"]) for m in staff] == [
        ("Checked the tenant: licence missing.", True), ("We assigned the licence.", False),
    ]  # fmt: skip
    customer = api_for(tenant.customer_admin).get(f"/api/v1/tickets/{t.pk}/messages/").json()["results"]
    assert [m["body"] for m in customer] == ["We assigned the licence."]

    client = api_for(tenant.customer_admin)
    assert client.post(f"/api/v1/tickets/{t.pk}/messages/", {"body": "x", "internal": True}).json()["fields"] == {
        "internal": ["Only the partner's staff can set this."]
    }
    reply = client.post(f"/api/v1/tickets/{t.pk}/messages/", {"body": "Works now, thanks."})
    assert reply.status_code == 201
    assert (reply.json()["body"], reply.json()["internal"]) == ("Works now, thanks.", False)
    note = api_for(tenant.agent).post(f"/api/v1/tickets/{t.pk}/messages/", {"body": "Close tomorrow", "internal": True})
    assert note.status_code == 201
    assert note.json()["internal"] is True
    assert TicketMessage.objects.filter(ticket=t, internal=True).count() == 2


def test_support_offering_get_and_put(tenant, other_tenant, api_for) -> None:
    body = {
        "time_zone": "Europe/Berlin",
        "hours": {"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "tue": [["08:00", "17:00"]], "wed": [], "thu": [],
                  "fri": [["08:00", "14:00"]], "sat": [], "sun": []},
        "holidays": [{"date": "2026-12-24", "name": "Heiligabend"}],
        "contact_portal": True, "contact_email": "support@alpha.example", "contact_phone": "+49 30 1234",
        "price_model": "hourly", "price_amount": "95.00", "currency": "EUR",
        "first_response_minutes_a": 30, "first_response_minutes_b": 120, "first_response_minutes_c": 480,
        "resolution_minutes_a": 240, "resolution_minutes_b": 960, "resolution_minutes_c": 2400,
    }  # fmt: skip
    assert api_for(tenant.agent).put("/api/v1/support-offering/", body).status_code == 403
    assert api_for(tenant.customer_admin).put("/api/v1/support-offering/", body).status_code == 403
    response = api_for(tenant.admin).put("/api/v1/support-offering/", body)
    assert response.status_code == 200, response.json()
    saved = SupportOffering.objects.get(partner=tenant.partner)
    assert (saved.time_zone, saved.price_model, str(saved.price_amount)) == ("Europe/Berlin", "hourly", "95.00")
    assert list(SupportHoliday.objects.filter(offering=saved).values_list("name", flat=True)) == ["Heiligabend"]
    seen = api_for(tenant.customer_admin).get("/api/v1/support-offering/").json()
    assert seen["hours"]["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert seen["holidays"] == [{"date": "2026-12-24", "name": "Heiligabend"}]
    assert seen["price_amount"] == "95.00"
    assert api_for(other_tenant.admin).get("/api/v1/support-offering/").json()["time_zone"] == "UTC"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", None),
        ({"hours": {"mon": [["18:00", "09:00"]]}}, "hours", "mon: a period must start before it ends (18:00-09:00)."),
        ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "hours", "mon: periods overlap (12:00 starts before 13:00)."),
        ({"hours": {"mon": [["9am", "5pm"]]}}, "hours", "mon: times must be written HH:MM, e.g. 09:00 (got 9am-5pm)."),
        ({"price_model": "per_incident", "price_amount": None}, "price_amount", "Give the price this price model charges (more than zero)."),
        ({"price_amount": "10.00"}, "price_amount", "Support included in the price has no price of its own: leave it empty."),
        ({"contact_portal": False, "contact_email": "", "contact_phone": ""}, "contact_portal",
         "Customers need at least one way to reach support: portal, email or phone."),
        ({"first_response_minutes_a": 600}, "resolution_minutes_a", "The resolution target cannot be shorter than the first response target."),
    ],
)  # fmt: skip
def test_support_offering_put_is_validated(tenant, api_for, change, field, message) -> None:
    body = {"time_zone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}, "price_model": "included", **change}
    response = api_for(tenant.admin).put("/api/v1/support-offering/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    if message:
        assert response.json()["fields"][field] == [message]
    assert SupportOffering.objects.filter(partner=tenant.partner, time_zone="Mars/Olympus").count() == 0


def test_a_refused_status_leaves_the_other_fields_of_the_patch_unchanged(tenant, api_for) -> None:
    t = ticket(tenant.customer)
    client = api_for(tenant.agent)
    assert client.patch(f"/api/v1/tickets/{t.pk}/", {"status": "open"}).status_code == 200
    refused = client.patch(f"/api/v1/tickets/{t.pk}/", {"severity": "A", "status": "new"})
    assert refused.status_code == 409
    t.refresh_from_db()
    assert (t.severity, t.status) == ("C", "open")


def test_a_bad_filter_value_is_refused_not_ignored(tenant, api_for) -> None:
    ticket(tenant.customer)
    client = api_for(tenant.agent)
    assert [t["status"] for t in client.get("/api/v1/tickets/?status=new").json()["results"]] == ["new"]
    refused = client.get("/api/v1/tickets/?status=lost&assignee=x")
    assert refused.status_code == 400
    assert sorted(refused.json()["fields"]) == ["assignee", "status"]


def test_the_customer_rates_a_resolved_ticket_through_the_api_and_the_ticket_shows_it(tenant, api_for) -> None:
    from tickets.services import ticket_status_change

    t = ticket_status_change(
        ticket=ticket(tenant.customer, opened_by=tenant.customer_admin, assignee=tenant.agent),
        status=Ticket.Status.RESOLVED, actor=tenant.agent,
    )  # fmt: skip
    other = ticket(tenant.other_customer)
    client = api_for(tenant.customer_member)
    assert client.get(f"/api/v1/tickets/{t.pk}/").json()["rating"] is None
    assert api_for(tenant.agent).post(f"/api/v1/tickets/{t.pk}/rate/", {"score": 5}, format="json").status_code == 400
    assert client.post(f"/api/v1/tickets/{t.pk}/rate/", {"score": 6}, format="json").status_code == 400
    assert client.post(f"/api/v1/tickets/{other.pk}/rate/", {"score": 5}, format="json").status_code == 404

    rated = client.post(f"/api/v1/tickets/{t.pk}/rate/", {"score": 4, "comment": "Quick."}, format="json")

    assert rated.status_code == 201, rated.json()
    assert (rated.json()["score"], rated.json()["comment"]) == (4, "Quick.")
    again = client.post(f"/api/v1/tickets/{t.pk}/rate/", {"score": 1}, format="json")
    assert again.status_code in (400, 409)
    listed = next(row for row in api_for(tenant.agent).get("/api/v1/tickets/").json()["results"] if row["id"] == t.pk)
    assert listed["rating"]["score"] == 4
