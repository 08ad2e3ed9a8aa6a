"""Subscriptions a customer buys through the partner, as Microsoft knows them, and their history."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.tenancy import TenantQuerySet


class SubscriptionQuerySet(TenantQuerySet["Subscription"]):
    customer_lookup = "customer"


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("subscription status", "Active")
        SUSPENSION_PENDING = "suspension_pending", _("Suspension pending")
        SUSPENDED = "suspended", _("Suspended")
        REACTIVATION_PENDING = "reactivation_pending", _("Reactivation pending")
        CANCELLED = "cancelled", _("Cancelled")

    class BillingCycle(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        ANNUAL = "annual", _("Annual")

    class ProductFamily(models.TextChoices):
        MICROSOFT_365 = "microsoft_365", _("Microsoft 365")
        AZURE = "azure", _("Azure")
        DYNAMICS_365 = "dynamics_365", _("Dynamics 365")
        OTHER = "other", _("Other")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
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
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
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
        indexes = [models.Index(fields=["partner", "status"], name="subscription_status_idx")]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


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
