"""Collections: the policy, its steps, the daily run and the notices it sends.

The rules that apply them live in `billing.collections.rules` (pure) and `billing.collections.services`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from billing.invoicing.models import Invoice
from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.money import MoneyField
from partner_portal.tenancy import TenantQuerySet


class CollectionPolicyQuerySet(TenantQuerySet["CollectionPolicy"]):
    customer_lookup = None  # customers read the policy through the selectors, in plain words


class CollectionPolicy(models.Model):
    """A partner's collections policy: when overdue invoices are chased and when access is suspended.

    One per partner; `collection_policy_get()` creates the default one (DEFAULT_STEPS) on first use.
    """

    class SuspendScope(models.TextChoices):
        ALL = "all", _("All of the customer's subscriptions")
        OVERDUE_INVOICES = "overdue_invoices", _("Only subscriptions billed on the overdue invoices")

    partner = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="collection_policy")
    # The customer's overdue balance (in its currency) below which no positive step is taken.
    min_amount = MoneyField(_("minimum overdue amount"), default=Decimal("10.00"))
    # The minimum of each currency that has its own ({"RUB": "900.00"}); other currencies use `min_amount`.
    min_amounts = models.JSONField(_("minimum overdue amount per currency"), default=dict, blank=True)
    # Added to every step after the due date (offset > 0).
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=0)
    suspend_scope = models.CharField(
        _("what is suspended"), max_length=20, choices=SuspendScope.choices, default=SuspendScope.OVERDUE_INVOICES
    )
    reactivate_automatically = models.BooleanField(_("reactivate automatically once paid"), default=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = CollectionPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection policy")
        verbose_name_plural = _("collection policies")
        constraints = [
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="collection_policy_min_not_negative")
        ]

    def __str__(self) -> str:
        return f"collections policy of partner {self.partner_id}"

    def minimum_for(self, currency: str) -> Decimal:
        """The minimum overdue amount in `currency`: its own, else the policy's `min_amount`."""
        value = (self.min_amounts or {}).get(currency)
        return Decimal(value) if value is not None else self.min_amount


class CollectionStepQuerySet(TenantQuerySet["CollectionStep"]):
    customer_lookup = None


class CollectionStep(models.Model):
    """One step of a policy: an action taken `offset_days` after the due date (negative: before)."""

    class Action(models.TextChoices):
        REMIND = "remind", _("Reminder")
        FINAL_NOTICE = "final_notice", _("Final notice")
        SUSPEND = "suspend", _("Suspension")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(CollectionPolicy, on_delete=models.CASCADE, related_name="steps")
    offset_days = models.IntegerField(_("days after the due date"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)

    objects = CollectionStepQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection step")
        verbose_name_plural = _("collection steps")
        ordering = ["offset_days"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "offset_days"], name="collection_step_one_per_offset"),
            models.CheckConstraint(
                condition=Q(offset_days__gte=-60) & Q(offset_days__lte=365), name="collection_step_offset_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offset_days:+d} {self.action}"


# The default policy (docs/architecture.md, "Collections"): a reminder three days before the due date, on it, a week and two
# weeks after; a final notice at three weeks; suspension at thirty days overdue.
DEFAULT_STEPS: list[tuple[int, str]] = [
    (-3, CollectionStep.Action.REMIND),
    (0, CollectionStep.Action.REMIND),
    (7, CollectionStep.Action.REMIND),
    (14, CollectionStep.Action.REMIND),
    (21, CollectionStep.Action.FINAL_NOTICE),
    (30, CollectionStep.Action.SUSPEND),
]


class CollectionRunQuerySet(TenantQuerySet["CollectionRun"]):
    customer_lookup = None  # what the run did is for partner staff


class CollectionRun(models.Model):
    """One collections run of one partner for one date, with what it did."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (another run was in progress)")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        COMMAND = "command", _("Command")
        PAGE = "page", _("Started by hand")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    run_date = models.DateField(_("run date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), default=clock.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    triggered_by = models.CharField(_("triggered by"), max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    notices_sent = models.PositiveIntegerField(_("notices"), default=0)
    suspensions_requested = models.PositiveIntegerField(_("suspensions"), default=0)
    reactivations_requested = models.PositiveIntegerField(_("reactivations"), default=0)
    errors_count = models.PositiveIntegerField(_("errors"), default=0)
    # Per-customer outcomes and error messages: {"customers": [...], "errors": [...]}.
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = CollectionRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection run")
        verbose_name_plural = _("collection runs")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["partner", "-started_at"], name="collection_run_partner_idx")]

    def __str__(self) -> str:
        return f"{self.run_date} ({self.status})"


class NoticeQuerySet(TenantQuerySet["Notice"]):
    customer_lookup = "customer"


class Notice(models.Model):
    """A collections notice for one invoice and step: one row per (invoice, offset, action), sent once.

    The run inserts rows set-based (ON CONFLICT DO NOTHING); the sender claims each with a conditional
    UPDATE (pending/failed -> sending), so two workers never email the same notice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not sent: settled meanwhile")
        # The worker died while sending: the mail server may or may not have the message. Never resent
        # by itself; staff mark it sent (found in the mail log) or send it again.
        UNCERTAIN = "uncertain", _("Sent or not: check the mail log")

    # No index of their own: each leads an index below (partner, status), (customer, created) and the
    # unique (invoice, step), and the run inserts tens of thousands of notices at a time. The database
    # checks the customer and the partner as one foreign key, (customer, partner) (billing 0036).
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="collection_notices", db_index=False, db_constraint=False
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="notices", db_index=False)
    run = models.ForeignKey(CollectionRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="notices")
    offset_days = models.IntegerField(_("days after the due date"))
    action = models.CharField(_("action"), max_length=16, choices=CollectionStep.Action.choices)
    amount_due = MoneyField(_("amount due"))  # the invoice's balance when the notice was made
    overdue_total = MoneyField(_("overdue total"))  # the customer's overdue balance then
    days_overdue = models.IntegerField(_("days overdue"), default=0)  # on the run date; negative: not due yet
    # What the policy does next and when, as the email states it (blank/None after the last step).
    next_action = models.CharField(_("next step"), max_length=16, choices=CollectionStep.Action.choices, blank=True)
    next_action_date = models.DateField(_("next step on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    recipient = models.EmailField(_("sent to"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The email's Message-ID, stored when the notice is claimed, before the email leaves: the one to look
    # for in the mail log. "Send again" gives a new one; the earlier ones are kept, oldest first.
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    earlier_message_ids = models.JSONField(_("earlier Message-IDs"), default=list, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Sent exactly once: a second run, a second worker or a retry after a crash inserts nothing.
            models.UniqueConstraint(fields=["invoice", "offset_days", "action"], name="notice_once_per_invoice_step"),
        ]
        indexes = [
            models.Index(fields=["partner", "status"], name="notice_partner_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="notice_customer_idx"),
        ]

    def __str__(self) -> str:
        # As the activity feed shows it: "INV-2026-000015 · Final notice, +21 d" (days from the due date).
        invoice = self.invoice.number if "invoice" in self._state.fields_cache else f"#{self.invoice_id}"
        return f"{invoice} · {self.get_action_display()}, {self.offset_days:+d} d"


# How harsh each action is: an invoice never receives a step milder than the harshest it has had.
ACTION_RANK: dict[str, int] = {
    CollectionStep.Action.REMIND: 1,
    CollectionStep.Action.FINAL_NOTICE: 2,
    CollectionStep.Action.SUSPEND: 3,
}


class InvoiceDunningQuerySet(TenantQuerySet["InvoiceDunning"]):
    customer_lookup = None  # the run's memory; customers see the notices themselves


class InvoiceDunning(models.Model):
    """How far collections have gone with one invoice: the harshest step it has had, never lowered.

    Kept by the run (one upsert per batch) so that a policy change never walks an invoice back to a
    milder step, and a suspension follows a final notice by the policy's days between the two.
    """

    # Checked by the database as one foreign key, (customer, partner) (billing 0036).
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="dunning")
    harshest = models.CharField(_("harshest step"), max_length=16, choices=CollectionStep.Action.choices)
    final_notice_on = models.DateField(_("final notice on"), null=True, blank=True)
    # The step the run took last (offset as the policy had it, action): a run that finds the same step
    # due again has nothing to write for the invoice.
    step_offset = models.IntegerField(_("last step's days after the due date"), null=True, blank=True)
    step_action = models.CharField(_("last step"), max_length=16, choices=CollectionStep.Action.choices, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    objects = InvoiceDunningQuerySet.as_manager()

    class Meta:
        verbose_name = _("dunning state of an invoice")
        verbose_name_plural = _("dunning states of invoices")

    def __str__(self) -> str:
        return f"invoice {self.invoice_id}: {self.harshest}"


class CustomerDunningQuerySet(TenantQuerySet["CustomerDunning"]):
    customer_lookup = None


class CustomerDunning(models.Model):
    """Whether collections have suspended the customer: set by a suspension, cleared by a reactivation.

    A suspended customer gets no reminder or final notice (nothing that announces a suspension).
    """

    # The database checks the customer and the partner as one foreign key, (customer, partner) (billing
    # 0036). The partner's own index stays: the run counts the partner's rows on it (_DUE_SQL).
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="dunning", db_constraint=False)
    suspended = models.BooleanField(_("suspended by collections"), default=False)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    # When the run next has something to decide for the customer (a step comes, an invoice falls
    # overdue or into reach of the policy, a promise to pay ends); NULL: at the next run. Cleared by
    # every change of the customer's open balances (billing.invoicing.services.listeners) and by a
    # suspension or reactivation; the customer's terms and the policy as the run saw them are kept
    # beside it, so a change of either makes the customer due too. NEVER_AGAIN: nothing ahead.
    recheck_on = models.DateField(_("next checked on"), null=True, blank=True)
    checked_on = models.DateField(_("last checked on"), null=True, blank=True)
    # At the suspension step: checked at every run while a subscription it could suspend is active.
    at_suspension = models.BooleanField(_("at the suspension step"), default=False)
    seen_policy = models.CharField(max_length=64, blank=True)  # the policy's fingerprint
    seen_exempt = models.BooleanField(null=True, blank=True)
    seen_extra_grace = models.PositiveSmallIntegerField(null=True, blank=True)
    seen_promise = models.DateField(null=True, blank=True)

    objects = CustomerDunningQuerySet.as_manager()

    NEVER_AGAIN = dt.date(9999, 12, 31)

    class Meta:
        verbose_name = _("dunning state of a customer")
        verbose_name_plural = _("dunning states of customers")
        # Which customers a run has something to decide for (the run's _DUE_SQL), each condition
        # read through an index of its own.
        indexes = [
            models.Index(fields=["partner", "recheck_on"], name="dunning_recheck_idx"),
            models.Index(fields=["partner", "checked_on"], name="dunning_checked_idx"),
            models.Index(fields=["partner", "seen_policy"], name="dunning_policy_idx"),
            models.Index(
                fields=["partner", "customer"], condition=Q(at_suspension=True), name="dunning_at_suspension_idx"
            ),
            models.Index(  # terms seen other than the defaults (NULL: never seen)
                fields=["partner"],
                condition=Q(seen_exempt=True)
                | Q(seen_exempt__isnull=True)
                | Q(seen_extra_grace__gt=0)
                | Q(seen_extra_grace__isnull=True)
                | Q(seen_promise__isnull=False),
                name="dunning_seen_terms_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id}: {'suspended' if self.suspended else 'not suspended'}"


class CollectionLeaseQuerySet(TenantQuerySet["CollectionLease"]):
    customer_lookup = None


class CollectionLease(models.Model):
    """Who runs a partner's collections now: one row per partner, taken for a while by one run.

    Taken with `UPDATE … WHERE locked_until <= now` (only one run's UPDATE matches), renewed before
    every batch, given back at the end. A crashed run's lease lapses at `locked_until`. A row rather
    than an advisory lock, so it holds across the run's many transactions and behind PgBouncer.
    """

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="+")
    locked_until = models.DateTimeField(_("locked until"))
    owner = models.CharField(_("held by"), max_length=64, blank=True)
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)

    objects = CollectionLeaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("collections lease")
        verbose_name_plural = _("collections leases")

    def __str__(self) -> str:
        return f"collections lease of partner {self.partner_id} until {self.locked_until:%Y-%m-%d %H:%M}"


# Where the overview puts a customer with nothing overdue in its "longest overdue" order: last.
NOTHING_OVERDUE = dt.date(9999, 12, 31)


class CustomerCollectionsQuerySet(TenantQuerySet["CustomerCollections"]):
    customer_lookup = None  # staff figures; customers see their own invoices


class CustomerCollections(models.Model):
    """Where a customer stood at the partner's last collections run: one row per customer with an open
    invoice in reach of the policy, written by the run (one upsert per batch, nothing when unchanged),
    so the overview reads a row per customer instead of summing invoices on every request."""

    # No index of its own (it leads the indexes below); the database checks the customer and the
    # partner as one foreign key, (customer, partner) (billing 0036).
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="collections_summary", db_constraint=False
    )
    run_date = models.DateField(_("as of"))
    overdue_total = MoneyField(_("overdue total"))  # every currency added up, as on the notices
    overdue_by_currency = models.JSONField(_("overdue per currency"), default=dict, blank=True)  # {"EUR": "10.00"}
    overdue_count = models.PositiveIntegerField(_("overdue invoices"), default=0)
    oldest_overdue = models.DateField(_("oldest overdue due date"), null=True, blank=True)
    step = models.CharField(_("current step"), max_length=16, choices=CollectionStep.Action.choices, blank=True)
    next_action_on = models.DateField(_("next action on"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    objects = CustomerCollectionsQuerySet.as_manager()

    class Meta:
        verbose_name = _("collections summary of a customer")
        verbose_name_plural = _("collections summaries of customers")
        indexes = [
            models.Index(fields=["partner", "customer"], name="customer_collections_idx"),
            # The overview's orders, walked from the top: longest overdue first (nothing overdue last)
            # and by amount.
            models.Index(
                F("partner"),
                Coalesce("oldest_overdue", Value(NOTHING_OVERDUE)),
                F("customer"),
                name="collections_oldest_idx",
            ),
            models.Index(fields=["partner", "overdue_total", "customer"], name="collections_total_idx"),
            # The step filter in the default order.
            models.Index(
                F("partner"),
                F("step"),
                Coalesce("oldest_overdue", Value(NOTHING_OVERDUE)),
                F("customer"),
                name="collections_step_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id}: {self.overdue_total} overdue on {self.run_date}"


class NoticeTemplateQuerySet(TenantQuerySet["NoticeTemplate"]):
    customer_lookup = None  # the wording is the partner's; customers read only the emails they get


class NoticeTemplate(models.Model):
    """A partner's own wording of the notice of one policy step, in English and Russian.

    Keyed by the step (its offset and action), so it follows the step through policy edits that keep
    it. Without a row the step's notice uses the built-in wording; "reset to default" deletes the row.
    The texts are plain text with `{{ variable }}` placeholders only (billing.collections.notice_text).
    """

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    offset_days = models.IntegerField(_("days after the due date"))
    action = models.CharField(_("action"), max_length=16, choices=CollectionStep.Action.choices)
    subject_en = models.CharField(_("subject (English)"), max_length=250)
    body_en = models.TextField(_("text (English)"))
    subject_ru = models.CharField(_("subject (Russian)"), max_length=250)
    body_ru = models.TextField(_("text (Russian)"))
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = NoticeTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice template")
        verbose_name_plural = _("notice templates")
        constraints = [
            models.UniqueConstraint(fields=["partner", "offset_days", "action"], name="notice_template_one_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.offset_days:+d} {self.action}"

    def texts(self, language: str) -> tuple[str, str]:
        """(subject, body) in `language` (en or ru)."""
        if language == "ru":
            return self.subject_ru, self.body_ru
        return self.subject_en, self.body_en
