"""Per product family: where a case is filed is data per tier × product family × cloud, and the case summary
carries what Microsoft's engineers need for the ticket's family."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation.models import SupportChannel
from escalation.selectors import escalation_summary
from escalation.services import escalation_route, ticket_escalate
from partner_portal.models import Partner
from tests.conftest import Tenant
from tests.factories.escalation import entitlement, ticket

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize("cloud", [Partner.Cloud.GLOBAL, Partner.Cloud.US_GOVERNMENT])
@pytest.mark.parametrize(
    ("family", "product"),
    [("azure", "Azure plan"), ("microsoft_365", "Exchange Online"), ("dynamics_365", "Business Central")],
)
@pytest.mark.parametrize(("kind", "category", "base"), [
    (None, "billing", "Partner Center"),
    ("premier", "technical", "Services Hub"),
    ("unified", "technical", "Services Hub"),
    ("solutions_partner_incidents", "technical", "benefit incident" ),
])  # fmt: skip
def test_the_channel_follows_tier_family_and_cloud(
    tenant: Tenant, cloud: str, family: str, product: str, kind: str | None, category: str, base: str
) -> None:
    tenant.partner.cloud = cloud
    tenant.partner.save()
    if kind:
        entitlement(tenant.partner, kind, incidents=3 if kind == "solutions_partner_incidents" else None)
    route = escalation_route(partner=tenant.partner, category=category, on=DAY, product_family=family)
    assert product in route.channel
    assert (base in route.channel) == (cloud == Partner.Cloud.GLOBAL or kind != "solutions_partner_incidents")
    assert ("US Government" in route.channel) == (cloud == Partner.Cloud.US_GOVERNMENT)
    assert route.guidance


def test_a_family_without_its_own_channel_uses_the_tiers(tenant: Tenant) -> None:
    entitlement(tenant.partner, "premier")
    route = escalation_route(partner=tenant.partner, category="technical", on=DAY, product_family="other")
    assert (route.channel, route.guidance) == (route.tier.channels["global"], "")


def test_the_channel_is_data_the_operator_can_change(tenant: Tenant) -> None:
    entitlement(tenant.partner, "premier")
    SupportChannel.objects.filter(tier__code="premier", product_family="azure", cloud="global").update(
        channel="Azure rapid response line", guidance="Quote the rapid response contract."
    )
    route = escalation_route(partner=tenant.partner, category="technical", on=DAY, product_family="azure")
    assert (route.channel, route.guidance) == ("Azure rapid response line", "Quote the rapid response contract.")


def test_an_escalation_records_its_familys_channel_and_the_summary_its_guidance(tenant: Tenant, client_for) -> None:
    entitlement(tenant.partner, "advanced")
    t = ticket(tenant.customer, subject="VMs will not start", product_family="azure")
    page = client_for(tenant.agent).get(f"/staff/tickets/{t.pk}/escalate/").content.decode()
    assert "Azure subscription ID" in page  # the guidance, before escalating
    escalation = ticket_escalate(ticket=t, reason="Platform maintenance left VMs starting", actor=tenant.agent)
    assert "Azure plan" in escalation.channel
    assert "Services Hub" in escalation.channel
    summary = escalation_summary(escalation=escalation)
    assert "AZURE GUIDANCE\nGive the Azure subscription ID" in summary
    dynamics = ticket_escalate(
        ticket=ticket(tenant.customer, subject="Sales app error", product_family="dynamics_365"),
        reason="Plugin fails", actor=None,
    )  # fmt: skip
    text = escalation_summary(escalation=dynamics)
    assert "DYNAMICS 365 GUIDANCE" in text
    assert "environment name and ID" in text
    assert "Azure subscription ID" not in text


def test_the_tiers_page_lists_each_familys_channel_for_the_partners_cloud(tenant: Tenant, client_for) -> None:
    html = client_for(tenant.finance).get("/staff/escalation/tiers/").content.decode()
    premier = html.split('data-testid="tier-premier"')[1].split("</section>")[0]
    assert "Where to file: Azure" in premier
    assert "Where to file: Dynamics 365" in premier
    assert premier.count('data-testid="family-channel"') == 3
    assert "US Government" not in premier
    tenant.agent.language = "ru"
    tenant.agent.save()
    ru = client_for(tenant.agent).get("/staff/escalation/tiers/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Куда подавать: Azure" in ru
