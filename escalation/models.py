"""Microsoft support tiers (a catalogue, the same for every partner) and each partner's entitlements."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from partner_portal import clock
from partner_portal.models import Partner, User
from partner_portal.tenancy import TenantQuerySet


class SupportTier(models.Model):
    """A channel to Microsoft support. Data, not code: seeded by a migration, edited in the admin."""

    class Code(models.TextChoices):
        BUSINESS = "business", _("Business support")
        PREMIER = "premier", _("Premier Support for Partners")
        ADVANCED = "advanced", _("Advanced Support for Partners")
        SIGNATURE_CLOUD = "signature_cloud", _("Signature Cloud Support")

    class Kind(models.TextChoices):
        BUSINESS = "business", _("Business (commercial)")
        TECHNICAL = "technical", _("Technical")

    code = models.CharField(max_length=20, choices=Code.choices, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    covers = models.TextField(_("what it covers"))
    requires = models.TextField(_("what it requires"))
    # Default order among technical tiers when a partner has several entitlements (lower first).
    rank = models.PositiveSmallIntegerField(default=0)
    # Where to file a case, per Partner Center cloud: {"global": "...", "us_government": "...", "germany": "..."}.
    channels = models.JSONField(default=dict)

    class Meta:
        ordering = ["rank", "code"]

    def __str__(self) -> str:
        return self.name


class EntitlementQuerySet(TenantQuerySet["Entitlement"]):
    customer_lookup = None  # the partner's contracts are not its customers' business

    def valid_on(self, day: object) -> EntitlementQuerySet:
        return self.filter(valid_from__lte=day).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))


class Entitlement(models.Model):
    """A partner's contract or competency that opens a technical support tier, for a period."""

    class Kind(models.TextChoices):
        PREMIER = "premier", _("Premier Support for Partners contract")
        ADVANCED = "advanced", _("Advanced Support for Partners contract")
        GOLD = "gold", _("Gold competency")
        SILVER = "silver", _("Silver competency")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("tier or competency"), max_length=10, choices=Kind.choices)
    reference = models.CharField(_("contract or competency reference"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # The partner's order of preference among its technical entitlements (lower first).
    preference = models.PositiveSmallIntegerField(_("preference"), default=100)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        ordering = ["preference", "valid_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="entitlement_valid_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.valid_from}–{self.valid_until or '…'})"

    @property
    def tier_code(self) -> str:
        """The tier this entitlement opens: a contract its own, a competency Signature Cloud Support."""
        return TIER_OF_ENTITLEMENT[self.kind]


# Which tier each kind of entitlement opens.
TIER_OF_ENTITLEMENT: dict[str, str] = {
    Entitlement.Kind.PREMIER: SupportTier.Code.PREMIER,
    Entitlement.Kind.ADVANCED: SupportTier.Code.ADVANCED,
    Entitlement.Kind.GOLD: SupportTier.Code.SIGNATURE_CLOUD,
    Entitlement.Kind.SILVER: SupportTier.Code.SIGNATURE_CLOUD,
}
