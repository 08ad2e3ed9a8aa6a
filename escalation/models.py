"""Microsoft support tiers (a catalogue, the same for every partner) and each partner's entitlements."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from partner_portal import clock
from partner_portal.models import Partner, User
from partner_portal.tenancy import TenantQuerySet


class Localized:
    """English text in `field`, Russian in `field_ru`: the page's language picks (English when no Russian)."""

    def localized(self, field: str) -> str:
        if (translation.get_language() or "en").startswith("ru"):
            text = getattr(self, f"{field}_ru", "")
            if text:
                return str(text)
        return str(getattr(self, field))

    @property
    def display_name(self) -> str:
        return self.localized("name")

    @property
    def display_covers(self) -> str:
        return self.localized("covers")

    @property
    def display_requires(self) -> str:
        return self.localized("requires")


def offering_status(*, valid_from: dt.date | None, valid_until: dt.date | None, retired: bool, day: dt.date) -> str:
    """ "retired", "ended", "future" or "current" on `day`: a catalogue row as Microsoft offers it."""
    if retired:
        return "retired"
    if valid_until is not None and valid_until < day:
        return "ended"
    if valid_from is not None and valid_from > day:
        return "future"
    return "current"


def offered_on(*, valid_from: dt.date | None, valid_until: dt.date | None, retired: bool, day: dt.date) -> bool:
    """Whether a catalogue row can be routed to on `day` (a retired one without an end date: never)."""
    if valid_from is not None and day < valid_from:
        return False
    if valid_until is not None:
        return day <= valid_until
    return not retired


class SupportTier(Localized, models.Model):
    """A channel to Microsoft support. Data, not code: seeded by migrations, edited in the admin."""

    class Code(models.TextChoices):
        """The tiers seeded with the catalogue. The field takes any code: more tiers are rows, not releases."""

        BUSINESS = "business", _("Business support")
        PREMIER = "premier", _("Premier Support for Partners")
        ADVANCED = "advanced", _("Advanced Support for Partners")
        UNIFIED = "unified", _("Unified Support")
        SOLUTIONS_PARTNER = "solutions_partner", _("Solutions Partner technical incidents")
        SIGNATURE_CLOUD = "signature_cloud", _("Signature Cloud Support")

    class Kind(models.TextChoices):
        BUSINESS = "business", _("Business (commercial)")
        TECHNICAL = "technical", _("Technical")

    code = models.SlugField(max_length=20, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    name_ru = models.CharField(_("name (Russian)"), max_length=100, blank=True)
    covers = models.TextField(_("what it covers"))
    covers_ru = models.TextField(_("what it covers (Russian)"), blank=True)
    requires = models.TextField(_("what it requires"))
    requires_ru = models.TextField(_("what it requires (Russian)"), blank=True)
    # Default order among technical tiers when a partner has several entitlements (lower first).
    rank = models.PositiveSmallIntegerField(default=0)
    # Where to file a case, per Partner Center cloud: {"global": "...", "us_government": "...", "germany": "..."}.
    channels = models.JSONField(default=dict)
    # Microsoft's offering dates. A tier past its last day is never routed to; a retired one cannot be
    # opened by new entitlements, but stays readable on past escalations and entitlements.
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["rank", "code"]
        verbose_name = _("support tier")
        verbose_name_plural = _("support tiers")

    def __str__(self) -> str:
        return self.name

    def routable_on(self, day: dt.date) -> bool:
        """Whether tickets can be routed to this tier on `day` (a retired tier without an end date: never)."""
        return offered_on(valid_from=self.valid_from, valid_until=self.valid_until, retired=self.retired, day=day)

    def status_on(self, day: dt.date) -> str:
        return offering_status(valid_from=self.valid_from, valid_until=self.valid_until, retired=self.retired, day=day)


class EntitlementType(Localized, models.Model):
    """A kind of contract, designation benefit or competency that opens a technical tier. Catalogue data.

    A retired type (Gold and Silver competencies, ended 30 September 2022) stays on the entitlements that
    name it but cannot be chosen for new ones; routing never passes through a type after its last day.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    tier = models.ForeignKey(
        SupportTier, on_delete=models.PROTECT, related_name="entitlement_types", verbose_name=_("tier")
    )
    name = models.CharField(_("name"), max_length=100)
    name_ru = models.CharField(_("name (Russian)"), max_length=100, blank=True)
    covers = models.TextField(_("what it covers"), blank=True)
    covers_ru = models.TextField(_("what it covers (Russian)"), blank=True)
    requires = models.TextField(_("what it requires"), blank=True)
    requires_ru = models.TextField(_("what it requires (Russian)"), blank=True)
    # An offering that includes a number of technical incidents: each technical escalation through it takes one.
    counts_incidents = models.BooleanField(_("counts incidents"), default=False)
    default_incidents = models.PositiveIntegerField(
        _("default incident allowance"), null=True, blank=True,
        help_text=_("Incidents a new entitlement of this type starts with when none are given."),
    )  # fmt: skip
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    retired = models.BooleanField(_("retired"), default=False)
    rank = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["rank", "code"]
        verbose_name = _("entitlement type")
        verbose_name_plural = _("entitlement types")

    def __str__(self) -> str:
        return self.name

    def routable_on(self, day: dt.date) -> bool:
        return offered_on(valid_from=self.valid_from, valid_until=self.valid_until, retired=self.retired, day=day)

    def status_on(self, day: dt.date) -> str:
        return offering_status(valid_from=self.valid_from, valid_until=self.valid_until, retired=self.retired, day=day)

    def can_be_chosen_on(self, day: dt.date) -> bool:
        """New entitlements: not a retired type, nor one Microsoft ended before `day`."""
        return not self.retired and (self.valid_until is None or self.valid_until >= day)


class SupportChannel(models.Model):
    """Where to file a case with a tier for one product family in one Partner Center cloud, and what Microsoft's
    engineers need for that family. Catalogue data; a tier's own `channels` serve any family without a row."""

    tier = models.ForeignKey(
        SupportTier, on_delete=models.CASCADE, related_name="family_channels", verbose_name=_("tier")
    )
    # The tickets app's product family codes: microsoft_365, azure, dynamics_365.
    product_family = models.SlugField(_("product family"), max_length=20)
    cloud = models.SlugField(_("cloud"), max_length=20)
    channel = models.TextField(_("where to file"))
    guidance = models.TextField(_("guidance for the case"), blank=True)

    class Meta:
        ordering = ["tier__rank", "product_family", "cloud"]
        verbose_name = _("support channel")
        verbose_name_plural = _("support channels")
        constraints = [
            models.UniqueConstraint(fields=["tier", "product_family", "cloud"], name="support_channel_once"),
        ]

    def __str__(self) -> str:
        return f"{self.tier.name} · {self.product_family} · {self.cloud}"


class EntitlementQuerySet(TenantQuerySet["Entitlement"]):
    customer_lookup = None  # the partner's contracts are not its customers' business

    def valid_on(self, day: object) -> EntitlementQuerySet:
        return self.filter(valid_from__lte=day).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))


class Entitlement(models.Model):
    """A partner's contract or competency that opens a technical support tier, for a period."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    # The type's code is the column's value (to_field), as it was when kinds were hard-coded choices.
    kind = models.ForeignKey(
        EntitlementType, on_delete=models.PROTECT, to_field="code", db_column="kind", related_name="entitlements",
        verbose_name=_("tier or competency"),
    )  # fmt: skip
    reference = models.CharField(_("contract or competency reference"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # The partner's order of preference among its technical entitlements (lower first).
    preference = models.PositiveSmallIntegerField(_("preference"), default=100)
    # Types that count incidents: how many technical escalations it still opens. Each one routed
    # through it takes one (a conditional UPDATE); at 0 routing passes it by. None: not counted.
    incidents_remaining = models.PositiveIntegerField(_("incidents remaining"), null=True, blank=True)
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
    def incidents_notice(self) -> str:
        """A warning for staff when a counted entitlement runs low or is used up; empty otherwise."""
        left = self.incidents_remaining
        if left is None or left > INCIDENTS_LOW:
            return ""
        if left == 0:
            return str(_("All its incidents are used up: technical tickets are no longer routed through it."))
        return str(_("Incidents left: %(count)s. Add incidents or record another entitlement before they run out.")) % {
            "count": left
        }

    def get_kind_display(self) -> str:
        return self.kind.display_name

    @property
    def tier_code(self) -> str:
        """The tier this entitlement opens (a competency: Signature Cloud Support)."""
        return self.kind.tier.code


# Staff are warned when a counted entitlement has this many incidents left or fewer.
INCIDENTS_LOW = 2


class EscalationQuerySet(TenantQuerySet["Escalation"]):
    customer_lookup = None  # customers see only the ticket's status "Escalated", never the case

    def open(self) -> EscalationQuerySet:
        return self.filter(status__in=Escalation.OPEN_STATUSES)


class Escalation(models.Model):
    """A ticket taken to Microsoft: the tier it was routed to, why, and the case Microsoft opened."""

    class Status(models.TextChoices):
        TO_FILE = "to_file", _("To file with Microsoft")
        FILED = "filed", _("Filed with Microsoft")
        IN_PROGRESS = "in_progress", _("In progress at Microsoft")
        RESOLVED = "resolved", _("Resolved by Microsoft")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.TO_FILE, Status.FILED, Status.IN_PROGRESS)

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="escalations")
    tier = models.ForeignKey(SupportTier, on_delete=models.PROTECT, related_name="+", verbose_name=_("tier"))
    # The entitlement that opened the tier on the day of routing (none for business support).
    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    channel = models.TextField(_("where to file"), blank=True)  # the tier's channel for the partner's cloud, then
    reason = models.TextField(_("reason"))
    microsoft_case_number = models.CharField(_("Microsoft case number"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.TO_FILE)
    automatic = models.BooleanField(_("automatic"), default=False)
    routed_on = models.DateField(_("routed on"))
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("escalated"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    filed_at = models.DateTimeField(_("filed"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One case at Microsoft at a time per ticket; a second escalation waits for the first to end.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status__in=["to_file", "filed", "in_progress"]),
                name="escalation_one_open_per_ticket",
            ),
            # The scheduled job escalates a ticket once, ever: concurrent runs insert one row at most.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(automatic=True), name="escalation_one_automatic_per_ticket"
            ),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["partner", "created_at", "id"], name="escalation_partner_created_idx"),
            models.Index(fields=["partner", "status"], name="escalation_partner_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tier.name}: {self.ticket}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class BreachNoticeQuerySet(TenantQuerySet["BreachNotice"]):
    customer_lookup = None


class BreachNotice(models.Model):
    """A notice to staff about a ticket, sent once per ticket and kind (the unique constraint holds it)."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response target missed")
        RESOLUTION = "resolution", _("Resolution target missed")
        # Past its resolution target, but the partner has no entitlement to escalate it to Microsoft.
        NOT_ENTITLED = "not_entitled", _("Automatic escalation not possible")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="breach_notices")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    detail = models.TextField(_("detail"), blank=True)
    sent_at = models.DateTimeField(_("sent"), default=clock.now)
    recipients = models.JSONField(default=list)  # the addresses it went to

    objects = BreachNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("breach notice")
        verbose_name_plural = _("breach notices")
        ordering = ["sent_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["ticket", "kind"], name="breach_notice_once_per_ticket_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.ticket_id}"
