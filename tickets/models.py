"""Support tickets, their messages, attachments and time entries, and the partner's support offering.

The offering is what the partner tells its customers about support: hours of service
in a time zone with holidays, how to reach it, what it costs and the SLA targets per severity. SLA
clocks of tickets count business minutes of that calendar (tickets/sla.py).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from billing.invoicing.models import Invoice, InvoiceLine
from partner_portal import clock
from partner_portal.models import Customer, Partner, User, validate_time_zone
from partner_portal.money import MoneyField
from partner_portal.tenancy import TenantQuerySet
from subscriptions.models import Subscription

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def default_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, nine to six."""
    return {day: ([["09:00", "18:00"]] if day not in ("sat", "sun") else []) for day in WEEKDAYS}


def validate_hours(value: Any) -> None:
    """Hours of service: {"mon": [["09:00", "18:00"]], ..., "sun": []}; HH:MM, start before end, no overlap."""
    if not isinstance(value, dict):
        raise ValidationError(_("Hours of service must map each weekday to a list of periods."))
    unknown = sorted(set(value) - set(WEEKDAYS))
    if unknown:
        raise ValidationError(_("Unknown weekday: %(day)s."), params={"day": ", ".join(unknown)})
    for day in WEEKDAYS:
        periods = value.get(day, [])
        if not isinstance(periods, list):
            raise ValidationError(_("The hours of %(day)s must be a list of periods."), params={"day": day})
        previous_end = ""
        for period in sorted(periods, key=lambda p: str(p[0]) if isinstance(p, list | tuple) and p else ""):
            if not isinstance(period, list | tuple) or len(period) != 2:
                raise ValidationError(_("Each period of %(day)s must be a start and an end."), params={"day": day})
            start, end = period
            if not (isinstance(start, str) and isinstance(end, str) and _HHMM.match(start) and _HHMM.match(end)):
                raise ValidationError(
                    _("%(day)s: times must be written HH:MM, e.g. 09:00 (got %(start)s-%(end)s)."),
                    params={"day": day, "start": start, "end": end},
                )
            if start >= end:
                raise ValidationError(
                    _("%(day)s: a period must start before it ends (%(start)s-%(end)s)."),
                    params={"day": day, "start": start, "end": end},
                )
            if previous_end and start < previous_end:
                raise ValidationError(
                    _("%(day)s: periods overlap (%(start)s starts before %(end)s)."),
                    params={"day": day, "start": start, "end": previous_end},
                )
            previous_end = end


class SupportOfferingQuerySet(TenantQuerySet["SupportOffering"]):
    customer_lookup = None  # customers read it through their partner (support_offering_get), never by id


class SupportOffering(models.Model):
    """What support a partner's customers get, when, how to reach it and what it costs. One per partner."""

    class PriceModel(models.TextChoices):
        INCLUDED = "included", _("Included in the subscription price")
        PER_INCIDENT = "per_incident", _("Per incident")
        HOURLY = "hourly", _("Hourly rate")
        MONTHLY_PLAN = "monthly_plan", _("Monthly plan")

    partner = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="support_offering")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    hours = models.JSONField(_("hours of service"), default=default_hours, validators=[validate_hours])
    contact_portal = models.BooleanField(_("tickets in the portal"), default=True)
    contact_email = models.EmailField(_("support email"), blank=True)
    contact_phone = models.CharField(_("support phone"), max_length=40, blank=True)
    contact_notes = models.TextField(_("notes for customers"), blank=True)
    contact_notes_ru = models.TextField(_("notes for customers in Russian"), blank=True)
    price_model = models.CharField(
        _("price model"), max_length=16, choices=PriceModel.choices, default=PriceModel.INCLUDED
    )
    price_amount = MoneyField(
        _("price"), null=True, blank=True, help_text=_("Per incident, per hour or per month, by the price model.")
    )
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    first_response_minutes_a = models.PositiveIntegerField(
        _("first response, severity A (business minutes)"), default=60
    )
    first_response_minutes_b = models.PositiveIntegerField(
        _("first response, severity B (business minutes)"), default=240
    )
    first_response_minutes_c = models.PositiveIntegerField(
        _("first response, severity C (business minutes)"), default=480
    )
    resolution_minutes_a = models.PositiveIntegerField(_("resolution, severity A (business minutes)"), default=480)
    resolution_minutes_b = models.PositiveIntegerField(_("resolution, severity B (business minutes)"), default=1440)
    resolution_minutes_c = models.PositiveIntegerField(_("resolution, severity C (business minutes)"), default=2880)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = SupportOfferingQuerySet.as_manager()

    class Meta:
        verbose_name = _("support offering")
        verbose_name_plural = _("support offerings")
        constraints = [
            # A charged price model needs its price; an included one has none.
            models.CheckConstraint(
                condition=Q(price_model="included") | Q(price_amount__isnull=False, price_amount__gt=0),
                name="support_offering_price_when_charged",
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes_a__gt=0)
                & Q(first_response_minutes_b__gt=0)
                & Q(first_response_minutes_c__gt=0)
                & Q(resolution_minutes_a__gt=0)
                & Q(resolution_minutes_b__gt=0)
                & Q(resolution_minutes_c__gt=0),
                name="support_offering_targets_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner}: {self.get_price_model_display()}"

    @property
    def contact_notes_shown(self) -> str:
        """The notes in the active language: the Russian text for a Russian reader when the partner wrote
        one, else the default text."""
        if translation.get_language() == "ru" and self.contact_notes_ru:
            return self.contact_notes_ru
        return self.contact_notes

    def first_response_minutes(self, severity: str) -> int:
        return int(getattr(self, f"first_response_minutes_{severity.lower()}"))

    def resolution_minutes(self, severity: str) -> int:
        return int(getattr(self, f"resolution_minutes_{severity.lower()}"))


class SupportHolidayQuerySet(TenantQuerySet["SupportHoliday"]):
    customer_lookup = None


class SupportHoliday(models.Model):
    """A day the support desk is closed: no business time counts on it."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    offering = models.ForeignKey(SupportOffering, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    objects = SupportHolidayQuerySet.as_manager()

    class Meta:
        verbose_name = _("support holiday")
        verbose_name_plural = _("support holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["offering", "date"], name="support_holiday_one_per_date")]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class TicketQuerySet(TenantQuerySet["Ticket"]):
    customer_lookup = "customer"


class Ticket(models.Model):
    class Category(models.TextChoices):
        BILLING = "billing", _("Billing")
        SUBSCRIPTION_MANAGEMENT = "subscription_management", _("Subscription management")
        TECHNICAL = "technical", _("Technical")

    class ProductFamily(models.TextChoices):
        MICROSOFT_365 = "microsoft_365", _("Microsoft 365 / Office 365")
        AZURE = "azure", _("Azure")
        DYNAMICS_365 = "dynamics_365", _("Dynamics 365")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        A = "A", _("A — critical")
        B = "B", _("B — high")
        C = "C", _("C — normal")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING_CUSTOMER = "pending_customer", _("Waiting on customer")
        ESCALATED = "escalated", _("Escalated")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING_CUSTOMER, Status.ESCALATED)

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    number = models.PositiveIntegerField(_("number"))
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, default=Category.TECHNICAL)
    product_family = models.CharField(
        _("product family"), max_length=16, choices=ProductFamily.choices, default=ProductFamily.MICROSOFT_365
    )
    severity = models.CharField(_("severity"), max_length=1, choices=Severity.choices, default=Severity.C)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    opened_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("opened"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Set while the ticket waits on the customer; on resume the due times move by the business time paused.
    sla_paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True)
    invoices = models.ManyToManyField(Invoice, blank=True, related_name="tickets", verbose_name=_("invoices"))
    subscriptions = models.ManyToManyField(
        Subscription, blank=True, related_name="tickets", verbose_name=_("subscriptions")
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "number"], name="ticket_number_unique_per_partner"),
        ]
        indexes = [
            models.Index(fields=["partner", "status", "created_at", "id"], name="ticket_partner_status_idx"),
            models.Index(fields=["partner", "assignee", "status"], name="ticket_partner_assignee_idx"),
            models.Index(fields=["customer", "created_at", "id"], name="ticket_customer_idx"),
            # The queue's sorts without a status filter.
            models.Index(fields=["partner", "created_at", "id"], name="ticket_partner_created_idx"),
            models.Index(fields=["partner", "updated_at", "id"], name="ticket_partner_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"T-{self.number:06d}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def answer_expected_by(self) -> dt.datetime | None:
        """What the customer can expect next from the partner, by when: the first answer while none was
        sent, then the resolution. Nothing while the ticket waits on the customer or is done."""
        if self.status not in (self.Status.NEW, self.Status.OPEN, self.Status.ESCALATED) or self.sla_paused_at:
            return None
        return self.first_response_due if self.first_responded_at is None else self.resolution_due


class TicketMessageQuerySet(TenantQuerySet["TicketMessage"]):
    customer_lookup = "ticket__customer"

    def public(self) -> TicketMessageQuerySet:
        return self.filter(internal=False)

    def for_scope(self, scope: Any) -> TicketMessageQuerySet:
        # Internal notes are for partner staff only: a customer scope never sees them.
        qs = super().for_scope(scope)
        return qs.filter(internal=False) if scope.customer is not None else qs


class TicketMessage(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    body = models.TextField(_("message"))
    internal = models.BooleanField(_("internal note"), default=False)
    # Who sent it by email when no user of the portal did (a customer's billing contact): "Name <address>".
    email_from = models.CharField(_("sent by email from"), max_length=400, blank=True)
    created_at = models.DateTimeField(_("sent"), default=clock.now)

    objects = TicketMessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_message_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:40]}"


class TicketAttachmentQuerySet(TenantQuerySet["TicketAttachment"]):
    customer_lookup = "ticket__customer"

    def for_scope(self, scope: Any) -> TicketAttachmentQuerySet:
        # Files attached to internal notes are for partner staff only.
        qs = super().for_scope(scope)
        return qs.exclude(message__internal=True) if scope.customer is not None else qs


def attachment_upload_to(instance: TicketAttachment, filename: str) -> str:
    # The stored name is random (set by the service); the original name is kept in the row only.
    return f"ticket_attachments/{instance.partner_id}/{filename}"


class TicketAttachment(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        TicketMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), default=clock.now)

    objects = TicketAttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class TimeEntryQuerySet(TenantQuerySet["TimeEntry"]):
    customer_lookup = None  # agents' time is for partner staff; customers see what was billed on invoices

    def unbilled(self) -> TimeEntryQuerySet:
        return self.filter(billable=True, billed_invoice__isnull=True)


class TimeEntry(models.Model):
    """Time an agent spent on a ticket. Billable time goes on the customer's next invoice, once."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="time_entries")
    agent = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent"))
    minutes = models.PositiveIntegerField(_("minutes"))
    billable = models.BooleanField(_("billable"), default=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    worked_on = models.DateField(_("worked on"))
    invoice_line = models.ForeignKey(
        InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("invoice line")
    )
    # The invoice the time went on. Billed means this is set: a draft's lines may be rewritten by other
    # edits (nulling invoice_line), but deleting the draft nulls this and makes the time billable again.
    billed_invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("invoice")
    )
    billed_at = models.DateTimeField(_("billed"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=clock.now)

    objects = TimeEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ["worked_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0), name="time_entry_minutes_positive"),
            models.CheckConstraint(
                condition=Q(billable=True) | (Q(invoice_line__isnull=True) & Q(billed_invoice__isnull=True)),
                name="time_entry_billed_only_if_billable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.ticket_id}"


class IncidentChargeQuerySet(TenantQuerySet["IncidentCharge"]):
    customer_lookup = None


class IncidentCharge(models.Model):
    """A per-incident charge for a resolved ticket: one row per ticket, so it is billed once.

    Deleting the draft it went on nulls `invoice`, which makes the charge billable again.
    """

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="incident_charge")
    invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, related_name="+")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.SET_NULL, null=True, related_name="+")
    amount = MoneyField(_("amount"))
    period = models.CharField(max_length=7)
    created_at = models.DateTimeField(default=clock.now)

    objects = IncidentChargeQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.amount}"


# ---- Customer satisfaction ------------------------------------------------------------------------


class TicketRatingQuerySet(TenantQuerySet["TicketRating"]):
    customer_lookup = "ticket__customer"


class TicketRating(models.Model):
    """How the customer rated the handling of a resolved ticket, once: 1 (poor) to 5 (excellent).

    The agent and the product family are copied when the rating is given, so the satisfaction report
    counts a rating for whoever resolved the ticket even if it is reassigned or recategorised later.
    """

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    agent = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("agent")
    )
    product_family = models.CharField(_("product family"), max_length=16, choices=Ticket.ProductFamily.choices)
    created_at = models.DateTimeField(_("rated"), default=clock.now)

    objects = TicketRatingQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket rating")
        verbose_name_plural = _("ticket ratings")
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="ticket_rating_score_1_to_5"),
        ]
        indexes = [models.Index(fields=["partner", "created_at"], name="ticket_rating_partner_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


# ---- Support plans and SLA targets per product family -------------------------------------------


class SupportPlanQuerySet(TenantQuerySet["SupportPlan"]):
    customer_lookup = None  # a customer reads only its own plan, through its assignment


class SupportPlan(models.Model):
    """What a partner sells its customers as support: SLA targets, what is included each month, the price.

    Its SLA targets (`SlaTarget` rows) override the offering's; a severity without a row of the plan
    keeps the offering's target.
    """

    class PriceModel(models.TextChoices):
        INCLUDED = "included", _("Included (free)")
        PER_INCIDENT = "per_incident", _("Per incident")
        HOURLY = "hourly", _("Hourly rate")
        MONTHLY = "monthly", _("Monthly fee")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    name_ru = models.CharField(_("name in Russian"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_ru = models.TextField(_("description in Russian"), blank=True)
    price_model = models.CharField(
        _("price model"), max_length=16, choices=PriceModel.choices, default=PriceModel.INCLUDED
    )
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    monthly_fee = MoneyField(_("monthly fee"), null=True, blank=True)
    hourly_rate = MoneyField(_("hourly rate"), null=True, blank=True, help_text=_("For hours beyond those included."))
    incident_price = MoneyField(
        _("price per incident"), null=True, blank=True, help_text=_("For incidents beyond those included.")
    )
    included_hours = models.PositiveIntegerField(_("included hours per month"), default=0)
    included_incidents = models.PositiveIntegerField(_("included incidents per month"), default=0)
    is_default = models.BooleanField(_("default plan"), default=False)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    objects = SupportPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("support plan")
        verbose_name_plural = _("support plans")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "name"], name="support_plan_name_unique"),
            # One default plan per partner: it applies to every customer without a plan of its own.
            models.UniqueConstraint(fields=["partner"], condition=Q(is_default=True), name="support_plan_one_default"),
            models.CheckConstraint(
                condition=~Q(price_model="monthly") | Q(monthly_fee__gt=0), name="support_plan_monthly_has_fee"
            ),
            models.CheckConstraint(
                condition=~Q(price_model="hourly") | Q(hourly_rate__gt=0), name="support_plan_hourly_has_rate"
            ),
            models.CheckConstraint(
                condition=~Q(price_model="per_incident") | Q(incident_price__gt=0),
                name="support_plan_per_incident_has_price",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.name_ru if translation.get_language() == "ru" and self.name_ru else self.name

    @property
    def display_description(self) -> str:
        return self.description_ru if translation.get_language() == "ru" and self.description_ru else self.description


class SlaTargetQuerySet(TenantQuerySet["SlaTarget"]):
    customer_lookup = None


class SlaTarget(models.Model):
    """An SLA target of the offering for one product family, or of a plan (for every family or one).

    The offering's targets per severity for every family are its own columns; these rows override them.
    A ticket's targets come from the most specific row (`tickets.services.plans.sla_targets`).
    """

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    offering = models.ForeignKey(
        SupportOffering, on_delete=models.CASCADE, null=True, blank=True, related_name="sla_targets"
    )
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="sla_targets")
    severity = models.CharField(_("severity"), max_length=1, choices=Ticket.Severity.choices)
    product_family = models.CharField(
        _("product family"), max_length=16, choices=Ticket.ProductFamily.choices, blank=True,
        help_text=_("Empty: every product family."),
    )  # fmt: skip
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))

    objects = SlaTargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["severity", "product_family", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offering__isnull=False, plan__isnull=True) | Q(offering__isnull=True, plan__isnull=False),
                name="sla_target_one_owner",
            ),
            # The offering's targets for every family are its columns: its rows name a family.
            models.CheckConstraint(
                condition=Q(offering__isnull=True) | ~Q(product_family=""), name="sla_target_offering_names_family"
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0)
                & Q(resolution_minutes__gte=models.F("first_response_minutes")),
                name="sla_target_minutes_valid",
            ),
            models.UniqueConstraint(
                fields=["offering", "severity", "product_family"], name="sla_target_unique_offering"
            ),
            models.UniqueConstraint(fields=["plan", "severity", "product_family"], name="sla_target_unique_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.product_family or '*'}: {self.first_response_minutes}/{self.resolution_minutes}"


class CustomerSupportPlanQuerySet(TenantQuerySet["CustomerSupportPlan"]):
    customer_lookup = "customer"


class CustomerSupportPlan(models.Model):
    """The plan a customer is on. A customer without a row is on the partner's default plan, if any."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="support_plan")
    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField(_("assigned"), default=clock.now)
    assigned_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = CustomerSupportPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer's support plan")
        verbose_name_plural = _("customers' support plans")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.plan_id}"


class PlanChargeQuerySet(TenantQuerySet["PlanCharge"]):
    customer_lookup = None


class PlanCharge(models.Model):
    """A plan's charge for a customer and month: the fee, or the hours or incidents beyond the allowance.

    One row per (customer, period, kind), so a second billing run adds nothing. Deleting the draft it
    went on nulls `invoice`, which makes the charge billable again.
    """

    class Kind(models.TextChoices):
        FEE = "fee", _("Monthly fee")
        HOURS = "hours", _("Hours beyond the plan")
        INCIDENTS = "incidents", _("Incidents beyond the plan")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="charges")
    period = models.CharField(max_length=7)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    quantity = models.DecimalField(max_digits=12, decimal_places=4)
    unit_price = MoneyField(_("unit price"))
    invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, related_name="+")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    objects = PlanChargeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "period", "kind"], name="plan_charge_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.period} {self.kind}"


# The support mailbox's and the canned replies' models live in their packages; imported here so Django
# registers them with the app.
from tickets.canned.models import CannedReply  # noqa: E402

# The knowledge base likewise.
from tickets.knowledge.models import Article, ArticleSuggestion  # noqa: E402
from tickets.mailbox.models import InboundEmail, SupportMailbox, TicketEmail  # noqa: E402

__all__ = [
    "Article",
    "ArticleSuggestion",
    "CannedReply",
    "CustomerSupportPlan",
    "InboundEmail",
    "IncidentCharge",
    "PlanCharge",
    "SlaTarget",
    "SupportHoliday",
    "SupportMailbox",
    "SupportOffering",
    "SupportPlan",
    "Ticket",
    "TicketAttachment",
    "TicketEmail",
    "TicketMessage",
    "TimeEntry",
]
