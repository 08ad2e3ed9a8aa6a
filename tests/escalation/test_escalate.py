"""ticket_escalate through the service and the API: every category against every entitlement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from escalation.errors import EscalationInvalid, EscalationNotAllowed, EscalationNotEntitled
from escalation.models import Escalation
from escalation.services import escalation_update, ticket_escalate
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.conftest import Tenant
from tests.factories.escalation import CURRENT, EXPIRED, FUTURE, entitlement, legacy_entitlement, ticket
from tickets.models import Ticket
from tickets.services import ticket_status_change

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)  # a Thursday, within hours
REFUSAL = "Gold and Silver competencies and Signature Cloud Support ended on 30 September 2022"

# (entitlements held: (kind, period)), expected tier for a technical ticket (None: refused)
HOLDINGS = [
    ((), None),
    ((("premier", CURRENT),), "premier"),
    ((("advanced", CURRENT),), "advanced"),
    ((("gold", CURRENT),), None),  # Signature Cloud Support ended on 2022-09-30
    ((("silver", CURRENT),), None),
    ((("premier", EXPIRED),), None),
    ((("gold", FUTURE),), None),
    ((("premier", EXPIRED), ("advanced", CURRENT)), "advanced"),
    ((("silver", CURRENT), ("premier", CURRENT)), "premier"),
]
CATEGORIES = ["billing", "subscription_management", "technical"]


def _hold(tenant: Tenant, kind: str, period) -> None:
    # Gold and Silver can no longer be recorded; they exist as data recorded before their retirement.
    (legacy_entitlement if kind in ("gold", "silver") else entitlement)(tenant.partner, kind, period)


def _expected(category: str, tier: str | None) -> str | None:
    return "business" if category != "technical" else tier


@pytest.fixture(autouse=True)
def _clock():
    with clock.frozen(NOW):
        yield


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize(("held", "tier"), HOLDINGS)
def test_the_service_routes_or_refuses(tenant: Tenant, category: str, held, tier: str | None) -> None:
    for kind, period in held:
        _hold(tenant, kind, period)
    t = ticket(tenant.customer, category)
    expected = _expected(category, tier)
    if expected is None:
        with pytest.raises(EscalationNotEntitled, match=REFUSAL):
            ticket_escalate(ticket=t, reason="Needs Microsoft", actor=tenant.agent)
        t.refresh_from_db()
        assert t.status == Ticket.Status.NEW
        assert not Escalation.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="escalation.").exists()
        return
    escalation = ticket_escalate(ticket=t, reason="  Needs Microsoft  ", actor=tenant.agent)
    t.refresh_from_db()
    assert (escalation.tier.code, escalation.reason, escalation.status) == (expected, "Needs Microsoft", "to_file")
    assert escalation.routed_on == dt.date(2026, 11, 26)
    assert escalation.automatic is False
    assert escalation.created_by == tenant.agent
    assert t.status == Ticket.Status.ESCALATED
    assert (escalation.entitlement is None) == (expected == "business")
    event = AuditEvent.objects.get(action="escalation.created")
    assert (event.actor, event.data["tier"], event.data["ticket"]) == (tenant.agent, expected, t.reference)


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize(("held", "tier"), HOLDINGS)
def test_the_api_routes_or_refuses(tenant: Tenant, api_for, category: str, held, tier: str | None) -> None:
    for kind, period in held:
        _hold(tenant, kind, period)
    t = ticket(tenant.customer, category)
    response = api_for(tenant.agent).post(f"/api/v1/tickets/{t.pk}/escalate/", {"reason": "Needs Microsoft"})
    expected = _expected(category, tier)
    t.refresh_from_db()
    if expected is None:
        assert response.status_code == 422
        assert response.json()["code"] == "not_entitled"
        assert REFUSAL in response.json()["detail"]
        assert t.status == Ticket.Status.NEW
        assert not Escalation.objects.exists()
        return
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["tier"], body["status"], body["ticket"], body["reason"]) == (
        expected,
        "to_file",
        t.pk,
        "Needs Microsoft",
    )
    assert body["ticket_reference"] == t.reference
    assert t.status == Ticket.Status.ESCALATED


def test_the_customer_is_told_the_status_not_the_case(tenant: Tenant, on_commit) -> None:
    t = ticket(tenant.customer, "billing", opened_by=tenant.customer_admin)
    mail.outbox.clear()
    with on_commit():
        ticket_escalate(ticket=t, reason="Secret internal reasoning about Microsoft", actor=tenant.agent)
    to_customer = [
        m for m in mail.outbox if tenant.customer_admin.email in m.to or tenant.customer.billing_email in m.to
    ]
    assert to_customer, [m.to for m in mail.outbox]
    for message in to_customer:
        assert "Secret internal reasoning" not in message.body
        assert "Business support" not in message.body


def test_an_empty_reason_is_refused(tenant: Tenant) -> None:
    t = ticket(tenant.customer, "billing")
    with pytest.raises(EscalationInvalid):
        ticket_escalate(ticket=t, reason="   ", actor=tenant.agent)
    assert not Escalation.objects.exists()


def test_one_open_escalation_per_ticket(tenant: Tenant) -> None:
    t = ticket(tenant.customer, "billing")
    ticket_escalate(ticket=t, reason="First", actor=tenant.agent)
    with pytest.raises(EscalationNotAllowed, match="already escalated"):
        ticket_escalate(ticket=t, reason="Second", actor=tenant.agent)
    assert Escalation.objects.count() == 1


def test_after_the_case_closes_an_agent_may_escalate_again(tenant: Tenant) -> None:
    t = ticket(tenant.customer, "billing")
    first = ticket_escalate(ticket=t, reason="First", actor=tenant.agent)
    escalation_update(escalation=first, actor=tenant.agent, microsoft_case_number="2611260010000001")
    escalation_update(escalation=first, actor=tenant.agent, status="closed")
    t.refresh_from_db()
    assert t.status == Ticket.Status.OPEN  # back with the agents when the case ends
    second = ticket_escalate(ticket=t, reason="It came back", actor=tenant.agent)
    assert Escalation.objects.filter(ticket=t).count() == 2
    assert second.status == "to_file"


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_a_resolved_or_closed_ticket_is_not_escalated(tenant: Tenant, status: str) -> None:
    t = ticket(tenant.customer, "billing")
    ticket_status_change(ticket=t, status=status, actor=tenant.agent)
    with pytest.raises(EscalationNotAllowed, match="reopen it"):
        ticket_escalate(ticket=t, reason="Too late", actor=tenant.agent)
    t.refresh_from_db()
    assert t.status == status
    assert not Escalation.objects.exists()


def test_the_api_answers_409_when_already_escalated(tenant: Tenant, api_for) -> None:
    t = ticket(tenant.customer, "billing")
    ticket_escalate(ticket=t, reason="First", actor=tenant.agent)
    response = api_for(tenant.agent).post(f"/api/v1/tickets/{t.pk}/escalate/", {"reason": "Again"})
    assert response.status_code == 409
    assert response.json()["code"] == "not_allowed"
    assert Escalation.objects.count() == 1


def test_the_api_needs_a_reason(tenant: Tenant, api_for) -> None:
    t = ticket(tenant.customer, "billing")
    response = api_for(tenant.agent).post(f"/api/v1/tickets/{t.pk}/escalate/", {})
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert not Escalation.objects.exists()


def test_a_pending_ticket_can_be_escalated_and_its_clock_resumes(tenant: Tenant) -> None:
    t = ticket(tenant.customer, "billing")
    ticket_status_change(ticket=t, status="pending_customer", actor=tenant.agent)
    ticket_escalate(ticket=t, reason="Needs Microsoft", actor=tenant.agent)
    t.refresh_from_db()
    assert (t.status, t.sla_paused_at) == ("escalated", None)


def test_a_case_reopened_at_microsoft_takes_the_ticket_back_to_escalated(tenant: Tenant) -> None:
    t = ticket(tenant.customer, "billing")
    case = ticket_escalate(ticket=t, reason="First", actor=tenant.agent)
    escalation_update(escalation=case, actor=tenant.agent, microsoft_case_number="2611260010000001", status="resolved")
    t.refresh_from_db()
    assert t.status == Ticket.Status.OPEN
    case = escalation_update(escalation=case, actor=tenant.agent, status="in_progress")
    t.refresh_from_db()
    assert (t.status, case.resolved_at, case.filed_at is not None) == (Ticket.Status.ESCALATED, None, True)


def test_a_resolved_case_is_not_reopened_while_a_newer_one_is_open(tenant: Tenant) -> None:
    t = ticket(tenant.customer, "billing")
    first = ticket_escalate(ticket=t, reason="First", actor=tenant.agent)
    escalation_update(escalation=first, actor=tenant.agent, microsoft_case_number="2611260010000001", status="resolved")
    ticket_escalate(ticket=t, reason="It came back", actor=tenant.agent)
    with pytest.raises(EscalationInvalid, match="another open escalation"):
        escalation_update(escalation=first, actor=tenant.agent, status="in_progress")
    first.refresh_from_db()
    assert first.status == "resolved"


def test_a_counted_entitlement_gives_one_incident_per_escalation_then_the_next_one(tenant: Tenant) -> None:
    counted = entitlement(tenant.partner, "solutions_partner_incidents", CURRENT, preference=1, incidents=2)
    premier = entitlement(tenant.partner, "premier", CURRENT, preference=2)
    routed = []
    for n in range(3):
        e = ticket_escalate(ticket=ticket(tenant.customer, subject=f"Case {n}"), reason="Needs Microsoft", actor=None)
        counted.refresh_from_db()
        routed.append((e.tier.code, e.entitlement_id, counted.incidents_remaining))
    assert routed == [
        ("solutions_partner", counted.pk, 1),
        ("solutions_partner", counted.pk, 0),
        ("premier", premier.pk, 0),  # used up: the next entitlement in the partner's order
    ]


def test_a_used_up_counted_entitlement_alone_is_refused_with_what_is_needed(tenant: Tenant) -> None:
    entitlement(tenant.partner, "solutions_partner_incidents", CURRENT, incidents=0)
    with pytest.raises(EscalationNotEntitled, match="needs a Premier or Advanced Support for Partners contract"):
        ticket_escalate(ticket=ticket(tenant.customer), reason="Needs Microsoft", actor=None)
    assert not Escalation.objects.exists()


def test_business_escalations_do_not_use_incidents(tenant: Tenant) -> None:
    counted = entitlement(tenant.partner, "solutions_partner_incidents", CURRENT, incidents=1)
    ticket_escalate(ticket=ticket(tenant.customer, "billing"), reason="Needs Microsoft", actor=None)
    counted.refresh_from_db()
    assert counted.incidents_remaining == 1
