"""Routing a ticket to the Microsoft support tier that matches it and the partner's entitlements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from escalation.errors import EscalationNotEntitled
from escalation.models import Entitlement, SupportChannel, SupportTier
from partner_portal.models import Partner

# Ticket categories (tickets app): billing and subscription management are commercial questions.
BUSINESS_CATEGORIES = frozenset({"billing", "subscription_management"})
TECHNICAL_CATEGORY = "technical"


@dataclass(frozen=True)
class Route:
    tier: SupportTier
    entitlement: Entitlement | None  # None for business support, which every partner has
    channel: str  # where to file the case, for the ticket's product family and the partner's cloud
    guidance: str = ""  # what Microsoft's engineers need for that product family


def support_channel(*, tier: SupportTier, product_family: str, cloud: str) -> tuple[str, str]:
    """(where to file, guidance) for a case with `tier` about `product_family` in `cloud`: the family's own
    channel where the catalogue has one, else the tier's channel for the cloud (and no guidance)."""
    row = SupportChannel.objects.filter(tier=tier, product_family=product_family, cloud=cloud).first()
    if row is not None:
        return row.channel, row.guidance
    return tier.channels.get(cloud, ""), ""


def escalation_route(*, partner: Partner, category: str, on: dt.date, product_family: str = "") -> Route:
    """The tier a ticket of `category` goes to on day `on`, and where to file it for its `product_family`.

    Billing and subscription-management tickets go to business support. Technical tickets go to the
    partner's first entitlement valid that day whose tier Microsoft still offers that day, in its order
    of preference (then Premier, Advanced). With none, EscalationNotEntitled says what the partner would need.
    """
    tiers = {t.code: t for t in SupportTier.objects.all()}
    if category in BUSINESS_CATEGORIES:
        tier = tiers[SupportTier.Code.BUSINESS]
        channel, guidance = support_channel(tier=tier, product_family=product_family, cloud=partner.cloud)
        return Route(tier=tier, entitlement=None, channel=channel, guidance=guidance)
    if category != TECHNICAL_CATEGORY:
        raise ValueError(f"unknown ticket category {category!r}")
    # A tier Microsoft has ended (Signature Cloud Support after 30 September 2022) is never routed to after its end.
    # A counted entitlement with no incidents left is passed by, as if it had ended.
    # So is an entitlement type after its last day (Gold and Silver competencies).
    entitlements = (
        Entitlement.objects.for_partner(partner).valid_on(on).exclude(incidents_remaining=0).select_related("kind")
    )
    by_pk = {t.pk: t for t in tiers.values()}
    valid = [e for e in entitlements if e.kind.routable_on(on) and by_pk[e.kind.tier_id].routable_on(on)]
    valid.sort(key=lambda e: (e.preference, by_pk[e.kind.tier_id].rank, e.kind.rank, e.valid_from, e.pk))
    if not valid:
        raise EscalationNotEntitled(
            _(
                "No valid technical support entitlement on %(day)s. Technical escalation to Microsoft needs a "
                "Premier or Advanced Support for Partners contract (Gold and Silver competencies and "
                "Signature Cloud Support ended on 30 September 2022); record it under Entitlements."
            )
            % {"day": on.isoformat()}
        )
    chosen = valid[0]
    tier = by_pk[chosen.kind.tier_id]
    chosen.kind.tier = tier  # read by pages and the summary without another query
    channel, guidance = support_channel(tier=tier, product_family=product_family, cloud=partner.cloud)
    return Route(tier=tier, entitlement=chosen, channel=channel, guidance=guidance)
