"""Subscriptions a customer buys through the partner, as Microsoft knows them, and their history."""

from __future__ import annotations

import re

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.tenancy import TenantQuerySet

# Partner Center's product ID of the Azure plan (offer "DZH318Z0BPS6:0001").
AZURE_PLAN_PRODUCT_ID = "DZH318Z0BPS6"
NEW_COMMERCE_OFFER = re.compile(r"^[A-Z0-9]{12}:[A-Z0-9]{4}(:[A-Z0-9]{12})?$", re.IGNORECASE)


class ChangeSource(models.TextChoices):
    """Who asked for a suspension or reactivation."""

    MANUAL = "manual", _("By hand")
    COLLECTIONS = "collections", _("Collections")


class SubscriptionQuerySet(TenantQuerySet["Subscription"]):
    customer_lookup = "customer"


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("subscription status", "Active")
        SUSPENSION_PENDING = "suspension_pending", _("Suspension pending")
        SUSPENDED = "suspended", _("Suspended")
        REACTIVATION_PENDING = "reactivation_pending", _("Reactivation pending")
        CANCELLATION_PENDING = "cancellation_pending", _("Cancellation pending")
        CANCELLED = "cancelled", _("Cancelled")

    class MicrosoftStatus(models.TextChoices):
        """The subscription's status as Partner Center reports it, apart from what the portal asked."""

        ACTIVE = "active", pgettext_lazy("status at Microsoft", "Active")
        SUSPENDED = "suspended", pgettext_lazy("status at Microsoft", "Suspended")
        EXPIRED = "expired", _("Expired")
        DISABLED = "disabled", _("Disabled")
        DELETED = "deleted", _("Deleted at Microsoft")

    class BillingCycle(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        ANNUAL = "annual", _("Annual")

    class ProductFamily(models.TextChoices):
        MICROSOFT_365 = "microsoft_365", _("Microsoft 365")
        AZURE = "azure", _("Azure")
        DYNAMICS_365 = "dynamics_365", _("Dynamics 365")
        OTHER = "other", _("Other")

    # No index of its own: it leads every index below.
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    product = models.CharField(_("product"), max_length=200)
    product_family = models.CharField(
        _("product family"), max_length=20, choices=ProductFamily.choices, default=ProductFamily.MICROSOFT_365
    )
    offer_id = models.CharField(_("offer ID"), max_length=100, blank=True)
    microsoft_subscription_id = models.CharField(_("Microsoft subscription ID"), max_length=64, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    billing_cycle = models.CharField(
        _("billing cycle"), max_length=10, choices=BillingCycle.choices, default=BillingCycle.MONTHLY
    )
    term = models.CharField(_("term"), max_length=10, default="P1M", help_text=_("ISO 8601 duration, e.g. P1M or P1Y"))
    # Monthly price per unit; money is Decimal, four places for unit prices as Partner Center gives them.
    unit_price = models.DecimalField(
        _("sale price per unit"), max_digits=14, decimal_places=4, validators=[MinValueValidator(0)]
    )
    unit_cost = models.DecimalField(
        _("Microsoft cost per unit"), max_digits=14, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.ACTIVE)
    # What Microsoft last said (blank until it answered): "deleted" once it no longer has the subscription.
    microsoft_status = models.CharField(
        _("status at Microsoft"), max_length=12, blank=True, choices=MicrosoftStatus.choices
    )
    # Who asked for the current suspension: collections only ever undo their own (docs/architecture.md).
    suspension_source = models.CharField(
        _("suspended by"),
        max_length=12,
        blank=True,
        choices=ChangeSource.choices,
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    # The current term as Microsoft reports it (effectiveStartDate, commitmentEndDate, autoRenewEnabled),
    # updated from each of Microsoft's answers; empty until Microsoft answered.
    term_start_date = models.DateField(_("current term started"), null=True, blank=True)
    commitment_end_date = models.DateField(_("current term ends"), null=True, blank=True)
    auto_renew_enabled = models.BooleanField(_("auto-renew at Microsoft"), default=True)
    # Auto-renew as it was before the current suspension: reactivation puts it back.
    auto_renew_before_suspension = models.BooleanField(null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["customer_id", "product", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="subscription_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(unit_cost__gte=0), name="subscription_prices_not_negative"
            ),
            models.UniqueConstraint(
                fields=["partner", "microsoft_subscription_id"],
                condition=~Q(microsoft_subscription_id=""),
                name="subscription_microsoft_id_unique_per_partner",
            ),
        ]
        indexes = [
            # The subscription list's sorts; (partner, status, id) also serves a filter on the status alone.
            models.Index(fields=["partner", "product", "id"], name="subscription_product_idx"),
            models.Index(fields=["partner", "created_at", "id"], name="subscription_created_idx"),
            models.Index(fields=["partner", "quantity", "id"], name="subscription_quantity_idx"),
            models.Index(fields=["partner", "status", "id"], name="subscription_status_id_idx"),
            # The customers with a subscription that could still be suspended (active, or its
            # reactivation asked), read by id without touching the rows.
            models.Index(
                fields=["partner", "customer"],
                condition=Q(status__in=["active", "reactivation_pending"]),
                name="subscription_suspendable_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"

    @property
    def is_azure_plan(self) -> bool:
        """Azure plan subscriptions are suspended in Azure Resource Manager, not through Partner Center.

        Recognised by family and by name or by the Azure plan product ID (DZH318Z0BPS6) in the offer.
        """
        if self.product_family != self.ProductFamily.AZURE:
            return False
        return "azure plan" in self.product.lower() or self.offer_id.upper().startswith(AZURE_PLAN_PRODUCT_ID)

    @classmethod
    def azure_plan_condition(cls) -> Q:
        """`is_azure_plan` as a query condition, for statements over many subscriptions at once."""
        return Q(product_family=cls.ProductFamily.AZURE) & (
            Q(product__icontains="azure plan") | Q(offer_id__istartswith=AZURE_PLAN_PRODUCT_ID)
        )

    @property
    def is_new_commerce(self) -> bool:
        """New-commerce offers are "{product ID}:{SKU ID}[:{availability ID}]" (e.g. CFQ7TTC0LH18:0001);
        legacy license-based offers are GUIDs."""
        return NEW_COMMERCE_OFFER.match(self.offer_id) is not None

    @property
    def is_gone_at_microsoft(self) -> bool:
        return self.microsoft_status == self.MicrosoftStatus.DELETED

    @property
    def is_pending(self) -> bool:
        return self.status in (
            self.Status.SUSPENSION_PENDING,
            self.Status.REACTIVATION_PENDING,
            self.Status.CANCELLATION_PENDING,
        )


class QuantityChangeQuerySet(TenantQuerySet["SubscriptionQuantityChange"]):
    customer_lookup = "subscription__customer"


class SubscriptionQuantityChange(models.Model):
    """The subscription's quantity from `effective_on` on; invoice generation pro-rates across them."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="quantity_changes")
    effective_on = models.DateField(_("effective on"))
    quantity = models.PositiveIntegerField(_("quantity"))
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    objects = QuantityChangeQuerySet.as_manager()

    class Meta:
        ordering = ["subscription_id", "effective_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "effective_on"], name="quantity_change_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} from {self.effective_on}"


class ChangeQuerySet(TenantQuerySet["SubscriptionChange"]):
    customer_lookup = "subscription__customer"


class SubscriptionChange(models.Model):
    """One status change asked of Microsoft: committed first, pushed after commit, retried until answered.

    At most one open change per subscription (a partial unique index): two callers cannot both ask.
    `request_id` is Partner Center's MS-RequestId, the same on every retry so Microsoft de-duplicates it.
    """

    class Wanted(models.TextChoices):
        SUSPENDED = "suspended", _("Suspend")
        ACTIVE = "active", _("Reactivate")
        DELETED = "deleted", _("Cancel at Microsoft")

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("subscription change", "Pending")
        IN_PROGRESS = "in_progress", _("Sending to Microsoft")
        CONFIRMED = "confirmed", _("Confirmed")
        FAILED = "failed", pgettext_lazy("subscription change", "Failed")
        NEEDS_MANUAL_STEP = "needs_manual_step", _("Needs a manual step")
        SUPERSEDED = "superseded", _("Superseded")
        REFUSED = "refused", _("Refused by Microsoft")

    Source = ChangeSource

    OPEN_STATES = ("pending", "in_progress", "failed", "needs_manual_step")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="changes")
    wanted_status = models.CharField(_("wanted status"), max_length=10, choices=Wanted.choices)
    request_id = models.UUIDField(_("request ID"), unique=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When the next push is due; while in progress, when the claim lapses (a worker that died mid-call).
    next_attempt_at = models.DateTimeField(_("next attempt"), default=clock.now)
    last_error = models.TextField(_("last error"), blank=True)
    microsoft_response = models.JSONField(_("Microsoft's answer"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    # An Azure plan's step in Azure Resource Manager, recorded by staff: before the plan's suspension
    # is sent to Microsoft, after its reactivation was confirmed (docs/architecture.md).
    azure_step_done_at = models.DateTimeField(_("Azure Resource Manager step done"), null=True, blank=True)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription change")
        verbose_name_plural = _("subscription changes")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(state__in=["pending", "in_progress", "failed", "needs_manual_step"]),
                name="subscription_change_one_open",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="subscription_change_due_idx"),
            # The changes waiting for staff (failed, a manual step), counted on every subscription list page.
            models.Index(fields=["partner", "state", "created_at"], name="subscription_change_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_wanted_status_display()} {self.subscription_id} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class StatusEventQuerySet(TenantQuerySet["SubscriptionStatusEvent"]):
    customer_lookup = "subscription__customer"


class SubscriptionStatusEvent(models.Model):
    """History: one row per status change of a subscription, with who, when, why and Microsoft's answer."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="status_events")
    from_status = models.CharField(_("from"), max_length=24, choices=Subscription.Status.choices)
    to_status = models.CharField(_("to"), max_length=24, choices=Subscription.Status.choices)
    reason = models.TextField(_("reason"), blank=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # manual, collections (asked), partner_center, record (confirmed), manual (done in Azure).
    source = models.CharField(_("source"), max_length=20, blank=True)
    change = models.ForeignKey(
        SubscriptionChange, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    microsoft_response = models.JSONField(_("Microsoft's answer"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=clock.now)

    objects = StatusEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription status change")
        verbose_name_plural = _("subscription status changes")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["subscription", "created_at"], name="subscription_event_sub_idx")]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class PartnerCenterAccountQuerySet(TenantQuerySet["PartnerCenterAccount"]):
    customer_lookup = None  # staff configuration; customer users never see it


class PartnerCenterAccount(models.Model):
    """A partner's Partner Center app registration (app + user or app-only, client credentials).

    Each partner signs in to its own AAD tenant, in its own cloud, with its own app; the secret is
    encrypted at rest (subscriptions.secrets) and never shown back.
    """

    partner = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="partner_center_account")
    aad_tenant_id = models.UUIDField(_("partner AAD tenant ID"))
    application_id = models.UUIDField(_("application (client) ID"))
    secret_encrypted = models.TextField(_("client secret (encrypted)"))
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = PartnerCenterAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("Partner Center account")
        verbose_name_plural = _("Partner Center accounts")

    def __str__(self) -> str:
        return f"{self.application_id}@{self.aad_tenant_id}"


class PartnerCenterSyncQuerySet(TenantQuerySet["PartnerCenterSync"]):
    customer_lookup = None  # staff pages only


class PartnerCenterSync(models.Model):
    """One run of the sync from Partner Center for a partner, with its progress for the page's bar.

    At most one waiting or running sync per partner (a partial unique index); a worker claims a
    waiting one by a conditional UPDATE, so two workers never run the same sync.
    """

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("partner center sync", "Waiting")
        RUNNING = "running", pgettext_lazy("partner center sync", "Running")
        DONE = "done", pgettext_lazy("partner center sync", "Done")
        FAILED = "failed", pgettext_lazy("partner center sync", "Failed")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("By hand")
        SCHEDULE = "schedule", _("Nightly schedule")
        COMMAND = "command", _("Command")

    OPEN_STATUSES = ("pending", "running")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Progress: customers read from Microsoft (total once the customer list is read) and written.
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    customers_created = models.PositiveIntegerField(default=0)
    subscriptions_created = models.PositiveIntegerField(default=0)
    subscriptions_updated = models.PositiveIntegerField(default=0)
    differences_found = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("requested"), default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moved on with each batch: a running sync not moved for long belongs to a worker that died.
    updated_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = PartnerCenterSyncQuerySet.as_manager()

    class Meta:
        verbose_name = _("Partner Center sync")
        verbose_name_plural = _("Partner Center syncs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(status__in=["pending", "running"]),
                name="partner_center_sync_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Partner Center sync #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else (self.done * 100 // self.total if self.total else 0)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class DifferenceQuerySet(TenantQuerySet["SubscriptionDifference"]):
    customer_lookup = None  # staff pages only


class SubscriptionDifference(models.Model):
    """What a sync found to differ between the portal and Microsoft for one field of one subscription.

    Open until staff take Microsoft's value or push the portal's (docs/architecture.md), or a later
    sync finds them equal again. At most one open difference per subscription and field.
    """

    class Field(models.TextChoices):
        STATUS = "status", _("Status")
        QUANTITY = "quantity", _("Quantity")
        TERM_END = "term_end", _("Term end")
        AUTO_RENEW = "auto_renew", _("Auto-renew")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("difference", "Open")
        PUSHING = "pushing", _("Sending to Microsoft")
        TOOK_MICROSOFT = "took_microsoft", _("Microsoft's value taken")
        PUSHED = "pushed", _("Portal's value sent to Microsoft")
        GONE = "gone", _("No longer differs")

    OPEN_STATES = ("open", "pushing")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="differences")
    sync = models.ForeignKey(PartnerCenterSync, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    field = models.CharField(_("field"), max_length=12, choices=Field.choices)
    # Values as text: a status, a number, an ISO date, "true"/"false".
    portal_value = models.CharField(_("in the portal"), max_length=40, blank=True)
    microsoft_value = models.CharField(_("at Microsoft"), max_length=40, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    error = models.TextField(_("last error"), blank=True)
    found_at = models.DateTimeField(_("found"), default=clock.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = DifferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("difference from Microsoft")
        verbose_name_plural = _("differences from Microsoft")
        ordering = ["-found_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "field"],
                condition=Q(state__in=["open", "pushing"]),
                name="subscription_difference_one_open",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "state", "found_at"], name="subscription_difference_idx"),
            models.Index(fields=["partner", "found_at", "id"], name="subscription_diff_found_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.portal_value} / {self.microsoft_value}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES
