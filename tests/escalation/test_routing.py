"""Routing to Microsoft support tiers: every ticket category against every entitlement, in date."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation.errors import EscalationNotEntitled
from escalation.models import Entitlement, SupportTier
from escalation.services import escalation_route
from partner_portal.models import Partner
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 26)
CURRENT = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
EXPIRED = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
FUTURE = (dt.date(2027, 1, 1), None)


def entitle(partner: Partner, kind: str, period=CURRENT, preference: int = 100) -> Entitlement:
    return Entitlement.objects.create(
        partner=partner, kind_id=kind, valid_from=period[0], valid_until=period[1], preference=preference
    )


@pytest.mark.parametrize("category", ["billing", "subscription_management"])
@pytest.mark.parametrize("kinds", [(), ("premier",), ("advanced",), ("gold",), ("silver",), ("premier", "gold")])
def test_business_categories_always_go_to_business_support(
    tenant: Tenant, category: str, kinds: tuple[str, ...]
) -> None:
    for kind in kinds:
        entitle(tenant.partner, kind)
    route = escalation_route(partner=tenant.partner, category=category, on=DAY)
    assert route.tier.code == SupportTier.Code.BUSINESS
    assert route.entitlement is None
    assert "Partner Center" in route.channel


@pytest.mark.parametrize(("kind", "tier"), [("premier", "premier"), ("advanced", "advanced"), ("unified", "unified")])
def test_technical_tickets_go_to_the_tier_the_entitlement_opens(tenant: Tenant, kind: str, tier: str) -> None:
    entitlement = entitle(tenant.partner, kind)
    route = escalation_route(partner=tenant.partner, category="technical", on=DAY)
    assert (route.tier.code, route.entitlement) == (tier, entitlement)


@pytest.mark.parametrize("kind", ["gold", "silver"])
@pytest.mark.parametrize(
    ("day", "tier"),
    [
        (dt.date(2022, 9, 29), "signature_cloud"),
        (dt.date(2022, 9, 30), "signature_cloud"),
        (dt.date(2022, 10, 1), None),
    ],
)
def test_signature_cloud_is_routed_to_until_its_last_day_only(
    tenant: Tenant, kind: str, day: dt.date, tier: str | None
) -> None:
    held = entitle(tenant.partner, kind, (dt.date(2022, 1, 1), None))
    if tier is None:
        with pytest.raises(EscalationNotEntitled, match="Signature Cloud Support ended on 30 September 2022"):
            escalation_route(partner=tenant.partner, category="technical", on=day)
        return
    route = escalation_route(partner=tenant.partner, category="technical", on=day)
    assert (route.tier.code, route.entitlement) == (tier, held)


def test_a_retired_tier_without_an_end_date_is_never_routed_to(tenant: Tenant) -> None:
    SupportTier.objects.filter(code="advanced").update(retired=True)
    entitle(tenant.partner, "advanced", (dt.date(2020, 1, 1), None))
    with pytest.raises(EscalationNotEntitled):
        escalation_route(partner=tenant.partner, category="technical", on=dt.date(2021, 1, 1))


@pytest.mark.parametrize("period", [EXPIRED, FUTURE])
@pytest.mark.parametrize("kind", ["premier", "advanced", "gold", "silver"])
def test_entitlements_out_of_date_do_not_count(tenant: Tenant, kind: str, period) -> None:
    entitle(tenant.partner, kind, period)
    with pytest.raises(
        EscalationNotEntitled,
        match=r"needs a Premier or Advanced Support for Partners contract \(Gold and Silver competencies",
    ):
        escalation_route(partner=tenant.partner, category="technical", on=DAY)


def test_validity_dates_are_inclusive(tenant: Tenant) -> None:
    entitle(tenant.partner, "advanced", (DAY, DAY))
    assert escalation_route(partner=tenant.partner, category="technical", on=DAY).tier.code == "advanced"


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (("gold", "advanced", "premier"), "premier"),  # default order: Premier, Advanced
        (("gold", "advanced"), "advanced"),  # Signature Cloud has ended: a Gold competency no longer counts
        (("advanced", "silver"), "advanced"),
    ],
)
def test_with_several_the_default_order_decides(tenant: Tenant, held: tuple[str, ...], expected: str) -> None:
    for kind in held:
        entitle(tenant.partner, kind)
    assert escalation_route(partner=tenant.partner, category="technical", on=DAY).tier.code == expected


def test_the_partners_own_preference_comes_first(tenant: Tenant) -> None:
    entitle(tenant.partner, "premier", preference=2)
    advanced = entitle(tenant.partner, "advanced", preference=1)
    assert escalation_route(partner=tenant.partner, category="technical", on=DAY).entitlement == advanced


def test_a_preferred_entitlement_of_an_ended_tier_falls_back_to_the_next(tenant: Tenant) -> None:
    entitle(tenant.partner, "gold", preference=1)
    premier = entitle(tenant.partner, "premier", preference=2)
    assert escalation_route(partner=tenant.partner, category="technical", on=DAY).entitlement == premier


def test_an_expired_preferred_entitlement_falls_back_to_the_next(tenant: Tenant) -> None:
    entitle(tenant.partner, "premier", EXPIRED, preference=1)
    entitle(tenant.partner, "advanced", preference=2)
    assert escalation_route(partner=tenant.partner, category="technical", on=DAY).tier.code == "advanced"


def test_another_partners_entitlement_does_not_help(tenant: Tenant, other_tenant: Tenant) -> None:
    entitle(other_tenant.partner, "premier")
    with pytest.raises(EscalationNotEntitled):
        escalation_route(partner=tenant.partner, category="technical", on=DAY)


def test_the_channel_follows_the_partners_cloud(tenant: Tenant) -> None:
    tenant.partner.cloud = Partner.Cloud.US_GOVERNMENT
    tenant.partner.save()
    entitle(tenant.partner, "premier")
    assert "US Government" in escalation_route(partner=tenant.partner, category="technical", on=DAY).channel
    assert "US Government" in escalation_route(partner=tenant.partner, category="billing", on=DAY).channel


def test_the_catalogue_lists_every_tier_with_what_it_covers_and_requires(db: None) -> None:
    tiers = {t.code: t for t in SupportTier.objects.all()}
    assert set(tiers) == set(SupportTier.Code.values)
    assert "Gold or Silver competency" in tiers["signature_cloud"].requires
    assert {code: (t.valid_until, t.retired) for code, t in tiers.items()} == {
        "business": (None, False),
        "premier": (None, False),
        "advanced": (None, False),
        "unified": (None, False),
        "solutions_partner": (None, False),
        "signature_cloud": (dt.date(2022, 9, 30), True),
    }
    assert all(
        t.covers and t.requires and set(t.channels) == {"global", "us_government", "germany"} for t in tiers.values()
    )
