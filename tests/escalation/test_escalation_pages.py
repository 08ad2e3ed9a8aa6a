"""Escalation pages, API and summary: the access matrix, editing the case, the summary for Microsoft."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation.models import Escalation
from escalation.selectors import escalation_summary
from escalation.services import escalation_update, ticket_escalate
from partner_portal import clock
from partner_portal.models import AuditEvent
from subscriptions.models import Subscription
from tests.conftest import Tenant
from tests.factories.escalation import entitlement, escalated, ticket
from tests.factories.subscriptions import SubscriptionFactory
from tickets.models import Ticket
from tickets.services import ticket_message_add

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with clock.frozen(NOW):
        yield


def _subscription(
    tenant: Tenant, product_family: str = "microsoft_365", sub_id: str = "a1b2c3d4-0000-4000-8000-000000000001"
) -> Subscription:
    return SubscriptionFactory(
        customer=tenant.customer,
        product="Microsoft 365 E3",
        product_family=product_family,
        microsoft_subscription_id=sub_id,
        quantity=25,
    )


# ---- Summary -------------------------------------------------------------------------------------


def test_the_summary_has_what_microsoft_asks_for(tenant: Tenant) -> None:
    entitlement(tenant.partner, "premier", reference="PSfP-77")
    t = ticket(tenant.customer, "technical", severity="A", opened_by=tenant.customer_admin)
    t.subscriptions.set([_subscription(tenant)])
    ticket_message_add(ticket=t, author=tenant.agent, body="Please restart Outlook in safe mode.", internal=False)
    ticket_message_add(
        ticket=t, author=tenant.agent, body="Autodiscover record points to the old server.", internal=True
    )
    ticket_message_add(ticket=t, author=tenant.customer_admin, body="Safe mode did not help.", internal=False)
    escalation = ticket_escalate(ticket=t, reason="Mail flow broken for all users", actor=tenant.agent)
    text = escalation_summary(escalation=escalation)
    for expected in (
        "Escalation to Microsoft: Premier Support for Partners",
        f"Microsoft partner ID (MPN ID): {tenant.partner.microsoft_partner_id}",
        "Partner Center cloud: Global (commercial) cloud",
        "Entitlement: Premier Support for Partners contract PSfP-77",
        f"Customer tenant ID: {tenant.customer.tenant_id}",
        "  - a1b2c3d4-0000-4000-8000-000000000001 Microsoft 365 E3 x25 (Active)",
        f"Ticket: {t.reference} Outlook cannot connect to Exchange Online",
        "Category: Technical",
        "Product family: Microsoft 365 / Office 365",
        "Severity: A — critical",
        "Reason for escalation: Mail flow broken for all users",
        "HISTORY (3 messages, oldest first)",
        "public reply | " + tenant.agent.email + " (partner)",
        "internal note | " + tenant.agent.email + " (partner)",
        "Autodiscover record points to the old server.",
        "public reply | " + tenant.customer_admin.email + " (customer)",
        "Since this morning every user gets error 0x800CCC0E",
    ):
        assert expected in text, expected
    assert text.index("Please restart Outlook") < text.index("Autodiscover") < text.index("Safe mode did not help")
    assert escalation.channel
    assert escalation.channel in text


def test_without_linked_subscriptions_the_summary_lists_the_product_familys(tenant: Tenant) -> None:
    _subscription(tenant, "azure", "azure-plan-0001")
    _subscription(tenant, "microsoft_365", "m365-0001")
    t = ticket(tenant.customer, "billing", product_family="azure")
    text = escalation_summary(escalation=ticket_escalate(ticket=t, reason="x", actor=tenant.agent))
    assert "(not linked to the ticket: the customer's Azure subscriptions)" in text
    assert "azure-plan-0001" in text
    assert "m365-0001" not in text


def test_the_summary_is_in_english_for_a_russian_agent(tenant: Tenant, client_for) -> None:
    tenant.agent.language = "ru"
    tenant.agent.save()
    e = escalated(tenant.customer, actor=tenant.agent)
    client = client_for(tenant.agent)
    html = client.get(f"/staff/escalation/{e.pk}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Reason for escalation: Partner Center shows a duplicate charge" in html


# ---- Pages ---------------------------------------------------------------------------------------


def test_the_list_filters_searches_and_pages(tenant: Tenant, client_for, django_assert_max_num_queries) -> None:
    entitlement(tenant.partner, "advanced")
    billing = escalated(tenant.customer)
    technical = ticket_escalate(
        ticket=ticket(tenant.customer, "technical", subject="VPN gateway down"), reason="x", actor=tenant.agent
    )
    escalation_update(escalation=technical, actor=tenant.agent, microsoft_case_number="2611260010009999")
    client = client_for(tenant.agent)
    with django_assert_max_num_queries(12):
        page = client.get("/staff/escalation/")
    html = page.content.decode()
    assert "VPN gateway down" in html
    assert "Invoice shows a licence twice" in html
    html = client.get("/staff/escalation/?tier=advanced").content.decode()
    assert "VPN gateway down" in html
    assert "Invoice shows a licence twice" not in html
    html = client.get("/staff/escalation/?status=to_file").content.decode()
    assert "VPN gateway down" not in html
    assert "Invoice shows a licence twice" in html
    html = client.get("/staff/escalation/?q=9999").content.decode()
    assert "VPN gateway down" in html
    assert "Invoice shows a licence twice" not in html
    html = client.get(f"/staff/escalation/?q={billing.ticket.reference}").content.decode()
    assert "VPN gateway down" not in html
    assert "Invoice shows a licence twice" in html


def test_the_list_keeps_a_fixed_number_of_queries(tenant: Tenant, client_for, django_assert_max_num_queries) -> None:
    for _ in range(30):
        escalated(tenant.customer)
    client = client_for(tenant.agent)
    with django_assert_max_num_queries(12):
        first = client.get("/staff/escalation/")
    assert first.content.decode().count('href="/staff/escalation/') >= 25
    assert first.context["page"].next_cursor
    second = client.get(f"/staff/escalation/?cursor={first.context['page'].next_cursor}")
    assert len(second.context["page"].items) == 5


def test_the_detail_shows_the_summary_and_updates_the_case(tenant: Tenant, client_for) -> None:
    e = escalated(tenant.customer)
    client = client_for(tenant.agent)
    html = client.get(f"/staff/escalation/{e.pk}/").content.decode()
    assert "Summary to file with Microsoft" in html
    assert "Business support" in html
    assert 'data-copy-target="escalation-summary"' in html
    response = client.post(
        f"/staff/escalation/{e.pk}/", {"microsoft_case_number": "2611260010000123", "status": "to_file"}
    )
    assert response.status_code == 302
    e.refresh_from_db()
    assert (e.microsoft_case_number, e.status, e.filed_at) == ("2611260010000123", "filed", NOW)
    response = client.post(f"/staff/escalation/{e.pk}/", {"microsoft_case_number": "", "status": "in_progress"})
    assert response.status_code == 400
    assert "Enter the Microsoft case number first" in response.content.decode()
    e.refresh_from_db()
    assert (e.microsoft_case_number, e.status) == ("2611260010000123", "filed")
    assert AuditEvent.objects.filter(action="escalation.updated").count() == 1


def test_the_case_moves_along_its_statuses(tenant: Tenant) -> None:
    e = escalated(tenant.customer)
    e = escalation_update(
        escalation=e, actor=tenant.agent, microsoft_case_number="2611260010000123", status="in_progress"
    )
    assert (e.status, e.filed_at) == ("in_progress", NOW)
    e = escalation_update(escalation=e, actor=tenant.agent, status="resolved")
    assert e.resolved_at == NOW
    assert Ticket.objects.get(pk=e.ticket_id).status == "open"
    e = escalation_update(escalation=e, actor=tenant.agent, status="closed")
    assert e.closed_at == NOW
    from escalation.errors import EscalationInvalid

    with pytest.raises(EscalationInvalid, match="cannot become"):
        escalation_update(escalation=e, actor=tenant.agent, status="in_progress")
    with pytest.raises(EscalationInvalid, match="3 to 40 letters"):
        escalation_update(
            escalation=escalated(tenant.customer), actor=tenant.agent, microsoft_case_number="no spaces please"
        )


def test_finance_reads_but_cannot_update_the_case(tenant: Tenant, client_for) -> None:
    e = escalated(tenant.customer)
    client = client_for(tenant.finance)
    html = client.get(f"/staff/escalation/{e.pk}/").content.decode()
    assert 'name="microsoft_case_number"' not in html
    client.post(f"/staff/escalation/{e.pk}/", {"microsoft_case_number": "2611260010000123", "status": "filed"})
    e.refresh_from_db()
    assert e.microsoft_case_number == ""
    assert client.get(f"/staff/tickets/{e.ticket_id}/escalate/").status_code == 403


def test_the_escalate_page_shows_the_route_and_escalates(tenant: Tenant, client_for) -> None:
    entitlement(tenant.partner, "advanced")
    t = ticket(tenant.customer, "technical")
    client = client_for(tenant.agent)
    html = client.get(f"/staff/tickets/{t.pk}/escalate/").content.decode()
    assert "This ticket goes to <strong>Advanced Support for Partners</strong>." in html
    response = client.post(f"/staff/tickets/{t.pk}/escalate/", {"reason": "Needs Microsoft"})
    e = Escalation.objects.get()
    assert response.status_code == 302
    assert response.url == f"/staff/escalation/{e.pk}/"
    assert e.tier.code == "advanced"
    html = client.get(f"/staff/tickets/{t.pk}/escalate/").content.decode()
    assert "This ticket is already with Microsoft (Advanced Support for Partners)." in html


def test_the_escalate_page_shows_the_refusal(tenant: Tenant, client_for) -> None:
    t = ticket(tenant.customer, "technical")
    client = client_for(tenant.admin)
    html = client.get(f"/staff/tickets/{t.pk}/escalate/").content.decode()
    assert "No valid technical support entitlement on 2026-11-26." in html
    response = client.post(f"/staff/tickets/{t.pk}/escalate/", {"reason": "Needs Microsoft"})
    assert response.status_code == 400
    assert "Signature Cloud Support ended on 30 September 2022" in response.content.decode()
    t.refresh_from_db()
    assert t.status == "new"
    assert not Escalation.objects.exists()


def test_the_ticket_page_shows_the_panel(tenant: Tenant, client_for) -> None:
    e = escalated(tenant.customer, actor=tenant.agent)
    escalation_update(escalation=e, actor=tenant.agent, microsoft_case_number="2611260010000555")
    html = client_for(tenant.agent).get(f"/staff/tickets/{e.ticket_id}/").content.decode()
    assert 'data-testid="escalation-panel"' in html
    assert "Microsoft case 2611260010000555" in html
    other = ticket(tenant.customer, "billing", subject="Another")
    html = client_for(tenant.agent).get(f"/staff/tickets/{other.pk}/").content.decode()
    assert "Not escalated to Microsoft." in html
    assert f'href="/staff/tickets/{other.pk}/escalate/"' in html


@pytest.mark.parametrize("role", ["customer_admin", "customer_member"])
def test_customers_see_the_status_but_no_escalation(tenant: Tenant, client_for, api_for, role: str) -> None:
    e = escalated(tenant.customer, actor=tenant.agent)
    user = getattr(tenant, role)
    client = client_for(user)
    for url in ("/staff/escalation/", f"/staff/escalation/{e.pk}/", f"/staff/tickets/{e.ticket_id}/escalate/",
                "/staff/escalation/tiers/"):  # fmt: skip
        assert client.get(url).status_code == 403, url
    html = client.get(f"/my/tickets/{e.ticket_id}/").content.decode()
    assert "Escalated" in html
    assert "Partner Center shows a duplicate charge" not in html
    assert "Business support" not in html
    api = api_for(user)
    assert api.get("/api/v1/escalations/").status_code == 403
    assert api.get(f"/api/v1/escalations/{e.pk}/").status_code == 403
    assert api.post(f"/api/v1/tickets/{e.ticket_id}/escalate/", {"reason": "x"}).status_code == 403
    ticket_json = api.get(f"/api/v1/tickets/{e.ticket_id}/").json()
    assert ticket_json["status"] == "escalated"
    assert "escalation" not in str(ticket_json).lower().replace("escalated", "")


def test_another_partner_gets_404(tenant: Tenant, other_tenant: Tenant, client_for, api_for) -> None:
    e = escalated(tenant.customer)
    t = ticket(tenant.customer, "billing", subject="Foreign")
    client = client_for(other_tenant.agent)
    assert client.get(f"/staff/escalation/{e.pk}/").status_code == 404
    assert (
        client.post(f"/staff/escalation/{e.pk}/", {"microsoft_case_number": "123456", "status": "filed"}).status_code
        == 404
    )
    assert client.get(f"/staff/tickets/{t.pk}/escalate/").status_code == 404
    assert client.post(f"/staff/tickets/{t.pk}/escalate/", {"reason": "x"}).status_code == 404
    api = api_for(other_tenant.admin)
    assert api.get(f"/api/v1/escalations/{e.pk}/").status_code == 404
    assert api.patch(f"/api/v1/escalations/{e.pk}/", {"status": "closed"}).status_code == 404
    assert api.post(f"/api/v1/tickets/{t.pk}/escalate/", {"reason": "x"}).status_code == 404
    assert api.get("/api/v1/escalations/").json()["results"] == []
    e.refresh_from_db()
    t.refresh_from_db()
    assert (e.status, t.status, Escalation.objects.count()) == ("to_file", "new", 1)
    assert "Foreign" not in client.get("/staff/escalation/").content.decode()


# ---- API -----------------------------------------------------------------------------------------


def test_api_lists_filters_and_patches(tenant: Tenant, api_for, django_assert_max_num_queries) -> None:
    entitlement(tenant.partner, "premier")
    billing = escalated(tenant.customer)
    technical = ticket_escalate(ticket=ticket(tenant.customer), reason="x", actor=tenant.agent)
    api = api_for(tenant.agent)
    with django_assert_max_num_queries(6):
        listed = api.get("/api/v1/escalations/").json()["results"]
    assert [(r["id"], r["tier"]) for r in listed] == [(technical.pk, "premier"), (billing.pk, "business")]
    assert [r["id"] for r in api.get("/api/v1/escalations/?tier=business").json()["results"]] == [billing.pk]
    assert [r["id"] for r in api.get(f"/api/v1/escalations/?ticket={technical.ticket_id}").json()["results"]] == [
        technical.pk
    ]
    detail = api.get(f"/api/v1/escalations/{billing.pk}/").json()
    assert detail["summary"].startswith("Escalation to Microsoft: Business support")
    response = api.patch(f"/api/v1/escalations/{billing.pk}/", {"microsoft_case_number": "2611260010000777"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["microsoft_case_number"]) == ("filed", "2611260010000777")
    refused = api.patch(f"/api/v1/escalations/{billing.pk}/", {"status": "to_file"})
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "An escalation that is filed with microsoft cannot become to file with microsoft.",
        "code": "escalation_invalid",
        "fields": {},
    }
    assert api.get("/api/v1/escalations/?status=open").json()["results"].__len__() == 2


def test_api_finance_reads_only(tenant: Tenant, api_for) -> None:
    e = escalated(tenant.customer)
    api = api_for(tenant.finance)
    assert api.get(f"/api/v1/escalations/{e.pk}/").status_code == 200
    assert api.patch(f"/api/v1/escalations/{e.pk}/", {"status": "closed"}).status_code == 403
    t = ticket(tenant.customer, "billing", subject="Finance tries")
    assert api.post(f"/api/v1/tickets/{t.pk}/escalate/", {"reason": "x"}).status_code == 403
    e.refresh_from_db()
    assert e.status == "to_file"


def test_anonymous_is_refused(tenant: Tenant, client) -> None:
    e = escalated(tenant.customer)
    assert client.get(f"/staff/escalation/{e.pk}/").status_code == 302
    assert client.get("/api/v1/escalations/").status_code in (401, 403)


def test_api_refuses_an_unknown_tier_filter(tenant: Tenant, api_for) -> None:
    escalated(tenant.customer)
    refused = api_for(tenant.agent).get("/api/v1/escalations/?tier=gold_plus")
    assert (refused.status_code, list(refused.json()["fields"])) == (400, ["tier"])


def test_the_escalate_page_warns_of_the_last_incident(tenant: Tenant, client_for) -> None:
    entitlement(tenant.partner, "solutions_partner_incidents", incidents=1)
    t = ticket(tenant.customer, "technical")
    html = client_for(tenant.agent).get(f"/staff/tickets/{t.pk}/escalate/").content.decode()
    assert "This ticket goes to <strong>Solutions Partner technical incidents</strong>." in html
    assert "Incidents left: 1. Add incidents or record another entitlement before they run out." in html
