"""Online payments: each partner's provider account, the checkouts customers start, and the events
the provider sends (stored once each)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.invoicing.models import Invoice, Payment
from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.money import MoneyField
from partner_portal.tenancy import TenantQuerySet


class ProviderAccountQuerySet(TenantQuerySet["PaymentProviderAccount"]):
    customer_lookup = None  # staff only


class PaymentProviderAccount(models.Model):
    """The partner's own account with a payment provider. The secret key and the webhook signing
    secret are encrypted at rest (subscriptions.secrets, as the Partner Center secret) and never
    shown back."""

    class Provider(models.TextChoices):
        STRIPE = "stripe", _("Stripe")
        DEMO = "demo", _("Demo provider (no money moves)")

    partner = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices, default=Provider.STRIPE)
    secret_key_encrypted = models.TextField(_("secret key (encrypted)"), blank=True)
    webhook_secret_encrypted = models.TextField(_("webhook signing secret (encrypted)"))
    # The last characters of the key, so staff can tell which key is stored without seeing it.
    key_hint = models.CharField(_("key ends with"), max_length=8, blank=True)
    updated_at = models.DateTimeField(default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = ProviderAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment provider account")
        verbose_name_plural = _("payment provider accounts")

    def __str__(self) -> str:
        return f"{self.get_provider_display()} ({self.partner_id})"


class CheckoutQuerySet(TenantQuerySet["OnlineCheckout"]):
    customer_lookup = "customer"


class OnlineCheckout(models.Model):
    """A hosted checkout a customer started: for one invoice, or for the whole overdue balance."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the customer")
        PAID = "paid", _("Paid")
        EXPIRED = "expired", _("Expired or cancelled")
        REFUNDED = "refunded", _("Refunded")
        DISPUTED = "disputed", _("Disputed")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    provider = models.CharField(_("provider"), max_length=16, choices=PaymentProviderAccount.Provider.choices)
    session_id = models.CharField(_("checkout session"), max_length=255, blank=True)
    payment_intent_id = models.CharField(_("payment intent"), max_length=255, blank=True)
    # Where the customer pays (the provider's page), and where it sends the customer back.
    url = models.CharField(_("checkout address"), max_length=2000, blank=True)
    success_url = models.CharField(max_length=2000, blank=True)
    cancel_url = models.CharField(max_length=2000, blank=True)
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    # Invoices and amounts the checkout was started for ({invoice id: amount}).
    invoices = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    amount_refunded = MoneyField(_("refunded"), default=0)
    disputed = models.BooleanField(_("disputed"), default=False)
    created_at = models.DateTimeField(_("started"), default=clock.now)
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = CheckoutQuerySet.as_manager()

    class Meta:
        verbose_name = _("online checkout")
        verbose_name_plural = _("online checkouts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "session_id"], condition=~Q(session_id=""), name="checkout_session_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["partner", "payment_intent_id"], name="checkout_partner_intent_idx"),
            models.Index(fields=["partner", "created_at", "id"], name="checkout_partner_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.session_id}"


class ProviderEventQuerySet(TenantQuerySet["ProviderEvent"]):
    customer_lookup = None


class ProviderEvent(models.Model):
    """One webhook event as the provider sent it, stored once: a replay finds its row and does nothing."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=16, choices=PaymentProviderAccount.Provider.choices)
    event_id = models.CharField(_("event"), max_length=255)
    type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=clock.now)
    # What the portal did with it: "payment_recorded", "refund_recorded", "ignored: ..." and so on.
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    checkout = models.ForeignKey(OnlineCheckout, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = ProviderEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        constraints = [models.UniqueConstraint(fields=["partner", "event_id"], name="provider_event_once")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
