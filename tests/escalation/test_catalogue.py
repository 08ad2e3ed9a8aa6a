"""The support catalogue as data: entitlement types are rows beside the tiers, in English and Russian; a retired
type stays readable on past records, cannot be chosen anew, and is never routed to after its end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from escalation.errors import EntitlementInvalid, EscalationNotEntitled
from escalation.models import Entitlement, EntitlementType, Escalation, SupportTier
from escalation.services import EntitlementInput, entitlement_create, escalation_route, ticket_escalate
from partner_portal.models import User
from tests.conftest import Tenant
from tests.factories.escalation import CURRENT, entitlement, legacy_entitlement, ticket

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 26)
TODAY_CHOOSABLE = (
    "Premier Support for Partners contract, Advanced Support for Partners contract, Unified Support contract, "
    "Solutions Partner benefit incidents"
)


def test_the_seeded_catalogue_has_todays_types_and_keeps_the_retired_ones(db: None) -> None:
    types = {t.code: t for t in EntitlementType.objects.select_related("tier")}
    assert {code: (t.tier.code, t.counts_incidents, t.retired, t.valid_until) for code, t in types.items()} == {
        "premier": ("premier", False, False, None),
        "advanced": ("advanced", False, False, None),
        "unified": ("unified", False, False, None),
        "solutions_partner_incidents": ("solutions_partner", True, False, None),
        "gold": ("signature_cloud", False, True, dt.date(2022, 9, 30)),
        "silver": ("signature_cloud", False, True, dt.date(2022, 9, 30)),
    }


def test_the_russian_catalogue_is_complete(tenant: Tenant, client_for) -> None:
    rows = [*SupportTier.objects.all(), *EntitlementType.objects.all()]
    assert all(row.name_ru and row.covers_ru and row.requires_ru for row in rows)
    tenant.agent.language = "ru"
    tenant.agent.save()
    html = client_for(tenant.agent).get("/staff/escalation/tiers/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for row in rows:
        assert row.name_ru in html
    assert "Компетенция Gold" in html
    assert "Договор Unified Support" in html
    assert "Выведено из предложения, окончено" in html
    assert "Предлагается" in html
    assert "Типы прав на поддержку" in html
    assert "Premier Support for Partners contract" not in html  # no English name left on the Russian page


def test_the_catalogue_page_lists_types_with_their_status(tenant: Tenant, client_for) -> None:
    EntitlementType.objects.filter(code="unified").update(valid_from=dt.date(2027, 1, 1))
    html = client_for(tenant.finance).get("/staff/escalation/tiers/").content.decode()
    gold = html.split('data-testid="type-gold"')[1].split("</tr>")[0]
    assert "Gold competency" in gold
    assert "Retired, ended" in gold
    assert "From " in html.split('data-testid="type-unified"')[1].split("</tr>")[0]
    assert "Offered" in html.split('data-testid="type-premier"')[1].split("</tr>")[0]
    assert "Counted" in html.split('data-testid="type-solutions_partner_incidents"')[1].split("</tr>")[0]


def test_a_new_type_is_a_row_and_routes_without_a_release(tenant: Tenant) -> None:
    advanced = SupportTier.objects.get(code="advanced")
    EntitlementType.objects.create(code="asfp_plus", tier=advanced, name="Advanced Support Plus", name_ru="Плюс")
    entitlement(tenant.partner, "asfp_plus")
    assert escalation_route(partner=tenant.partner, category="technical", on=DAY).tier == advanced


@pytest.mark.parametrize(("on", "tier"), [(dt.date(2026, 6, 30), "premier"), (dt.date(2026, 7, 1), "advanced")])
def test_a_type_is_never_routed_to_after_its_end(tenant: Tenant, on: dt.date, tier: str) -> None:
    entitlement(tenant.partner, "premier", preference=1)
    entitlement(tenant.partner, "advanced", preference=2)
    EntitlementType.objects.filter(code="premier").update(valid_until=dt.date(2026, 6, 30))
    assert escalation_route(partner=tenant.partner, category="technical", on=on).tier.code == tier


def test_a_type_retired_in_the_catalogue_is_not_routed_and_not_offered(tenant: Tenant, client_for) -> None:
    entitlement(tenant.partner, "premier", preference=1)
    EntitlementType.objects.filter(code="premier").update(retired=True)
    with pytest.raises(EscalationNotEntitled, match="No valid technical support entitlement"):
        escalation_route(partner=tenant.partner, category="technical", on=DAY)
    form = client_for(tenant.admin).get("/staff/escalation/entitlements/new/").content.decode()
    assert 'value="premier"' not in form
    assert 'value="advanced"' in form
    assert 'value="gold"' not in form


def test_retired_types_are_refused_alike_by_the_service_the_page_and_the_api(tenant: Tenant, client_for, api_for):
    message = f"Gold competency is retired: Microsoft no longer offers it. Choose one of: {TODAY_CHOOSABLE}."
    with pytest.raises(EntitlementInvalid, match=message):
        entitlement_create(partner=tenant.partner, actor=None, data=EntitlementInput(kind="gold", valid_from=DAY))
    page = client_for(tenant.admin).post(
        "/staff/escalation/entitlements/new/", {"kind": "gold", "valid_from": "2026-01-01", "preference": "100"}
    )
    assert page.status_code == 400
    assert message in page.content.decode()
    api = api_for(tenant.admin).post("/api/v1/entitlements/", {"kind": "silver", "valid_from": "2026-01-01"})
    assert (api.status_code, api.json()) == (
        400,
        {
            "detail": f"Silver competency is retired: Microsoft no longer offers it. Choose one of: {TODAY_CHOOSABLE}.",
            "code": "entitlement_invalid",
            "fields": {},
        },
    )
    assert not Entitlement.objects.exists()


def test_an_old_escalation_through_gold_still_shows_its_tier_and_competency(tenant: Tenant, client_for) -> None:
    gold = legacy_entitlement(tenant.partner, "gold", (dt.date(2021, 1, 1), dt.date(2022, 9, 30)))
    t = ticket(tenant.customer)
    old = Escalation.objects.create(
        partner=tenant.partner, ticket=t, tier=SupportTier.objects.get(code="signature_cloud"), entitlement=gold,
        reason="Exchange outage", routed_on=dt.date(2022, 5, 2), status=Escalation.Status.CLOSED,
    )  # fmt: skip
    html = client_for(tenant.agent).get(f"/staff/escalation/{old.pk}/").content.decode()
    assert "Signature Cloud Support" in html
    assert "Gold competency" in html
    listed = client_for(tenant.agent).get("/staff/escalation/?tier=signature_cloud").content.decode()
    assert t.subject in listed
    assert api_tier(tenant, old) == ("signature_cloud", "Signature Cloud Support")
    # and the Gold competency routes nothing today
    with pytest.raises(EscalationNotEntitled, match="No valid technical support entitlement"):
        escalation_route(partner=tenant.partner, category="technical", on=DAY)


def api_tier(tenant: Tenant, escalation: Escalation) -> tuple[str, str]:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(tenant.agent)
    data = api.get(f"/api/v1/escalations/{escalation.pk}/").json()
    return data["tier"], data["tier_name"]


def test_a_counted_type_starts_with_its_default_allowance(tenant: Tenant) -> None:
    EntitlementType.objects.filter(code="solutions_partner_incidents").update(default_incidents=5)
    e = entitlement(tenant.partner, "solutions_partner_incidents")
    assert e.incidents_remaining == 5
    assert entitlement(tenant.partner, "premier").incidents_remaining is None


def test_staff_are_warned_on_the_escalation_and_the_ticket_when_the_allowance_runs_out(
    tenant: Tenant, client_for
) -> None:
    counted = entitlement(tenant.partner, "solutions_partner_incidents", CURRENT, preference=1, incidents=1)
    entitlement(tenant.partner, "premier", CURRENT, preference=2)
    first = ticket_escalate(ticket=ticket(tenant.customer, subject="First"), reason="Needs Microsoft", actor=None)
    counted.refresh_from_db()
    assert (first.tier.code, counted.incidents_remaining) == ("solutions_partner", 0)
    client = client_for(tenant.agent)
    used_up = "All its incidents are used up: technical tickets are no longer routed through it."
    assert used_up in client.get(f"/staff/escalation/{first.pk}/").content.decode()
    assert used_up in client.get(f"/staff/tickets/{first.ticket_id}/").content.decode()
    # routing then passes it by
    second = ticket_escalate(ticket=ticket(tenant.customer, subject="Second"), reason="Needs Microsoft", actor=None)
    assert second.tier.code == "premier"


def test_the_site_operator_edits_the_catalogue_in_the_admin(db: None) -> None:
    operator = Client()
    operator.force_login(User.objects.create_superuser("root@example.com", "a-long-password-42"))
    gold = EntitlementType.objects.get(code="gold")
    assert operator.get(f"/admin/escalation/entitlementtype/{gold.pk}/change/").status_code == 200
    assert operator.get("/admin/escalation/entitlementtype/add/").status_code == 200
    assert operator.get("/admin/escalation/supporttier/").status_code == 200
