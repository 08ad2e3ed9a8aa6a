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


class SavedCardQuerySet(TenantQuerySet["SavedCard"]):
    customer_lookup = "customer"


class SavedCard(models.Model):
    """A customer's card kept at the provider for autopay: the provider's ids and what the customer
    needs to recognise it (brand, last four digits, expiry). The card number never reaches the portal.

    One row per customer: saving another card replaces the first; removing it detaches it at the
    provider, clears the card and turns autopay off. `setup_session_id` is the provider's setup page
    the customer was last sent to, found again when its webhook arrives."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=16, choices=PaymentProviderAccount.Provider.choices)
    # The provider's customer the card is attached to (Stripe: cus_…), kept across cards.
    provider_customer_id = models.CharField(_("provider customer"), max_length=255, blank=True)
    setup_session_id = models.CharField(_("setup session"), max_length=255, blank=True)
    payment_method_id = models.CharField(_("payment method"), max_length=255, blank=True)
    brand = models.CharField(_("card brand"), max_length=32, blank=True)
    last4 = models.CharField(_("last four digits"), max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"), null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(_("expiry year"), null=True, blank=True)
    autopay = models.BooleanField(_("autopay"), default=False)
    # Invoices due from this day on are charged: turning autopay on does not charge old debts.
    autopay_since = models.DateField(_("autopay since"), null=True, blank=True)
    saved_at = models.DateTimeField(_("saved"), null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    objects = SavedCardQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved card")
        verbose_name_plural = _("saved cards")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "setup_session_id"],
                condition=~Q(setup_session_id=""),
                name="saved_card_setup_unique",
            ),
            models.CheckConstraint(condition=Q(autopay=False) | ~Q(payment_method_id=""), name="autopay_needs_card"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}" if self.payment_method_id else "—"

    @property
    def has_card(self) -> bool:
        return bool(self.payment_method_id)


class AutopayAttemptQuerySet(TenantQuerySet["AutopayAttempt"]):
    customer_lookup = "customer"


class AutopayAttempt(models.Model):
    """One off-session charge of an invoice with the customer's saved card. Unique per invoice and
    attempt number: the daily job creates the row before it calls the provider (the claim), and the
    provider's idempotency key is derived from it, so a second run or a second worker never charges
    twice. The payment itself is recorded by the provider's payment_intent.succeeded webhook."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Charging")
        SUCCEEDED = "succeeded", _("Charged")
        FAILED = "failed", _("Failed")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    provider = models.CharField(_("provider"), max_length=16, choices=PaymentProviderAccount.Provider.choices)
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    card_label = models.CharField(_("card"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    payment_intent_id = models.CharField(_("provider reference"), max_length=255, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    failure_message = models.CharField(_("failure"), max_length=500, blank=True)
    decline_code = models.CharField(_("decline code"), max_length=100, blank=True)
    # The provider's id of the card charged: a refusal is tried again at once on another card.
    payment_method_id = models.CharField(max_length=255, blank=True)
    # A failed charge the issuer may accept later is tried again on this day (services/autopay.py,
    # RETRY_AFTER_DAYS); NULL: not on this card (a refusal that waiting does not change, or the last try).
    retry_on = models.DateField(_("next try on"), null=True, blank=True)
    # When the customer was told of the refusal by email (once per attempt; set before sending).
    notified_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Given back in the provider's Dashboard (cumulative, as Stripe's charge.refunded says), and disputes.
    amount_refunded = MoneyField(_("refunded"), default=0)
    disputed = models.BooleanField(_("disputed"), default=False)
    created_at = models.DateTimeField(_("started"), default=clock.now)
    # When a worker took the row to charge it; a pending row whose worker died is taken again later,
    # with the same idempotency key (the provider answers the first charge's result).
    claimed_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = AutopayAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("autopay attempt")
        verbose_name_plural = _("autopay attempts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "attempt"], name="autopay_attempt_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="autopay_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["partner", "payment_intent_id"], name="autopay_partner_intent_idx"),
            models.Index(fields=["customer", "created_at"], name="autopay_customer_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} #{self.attempt} {self.status}"

    @property
    def idempotency_key(self) -> str:
        return f"portal-autopay-{self.invoice_id}-{self.attempt}"
