"""Peppol sending: each partner's access-point account and one submission per issued document, with its
history. The account's API key and webhook secret are encrypted at rest (subscriptions.secrets)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.invoicing.models import CreditNote, Invoice
from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.tenancy import TenantQuerySet


class AccessPointAccountQuerySet(TenantQuerySet["AccessPointAccount"]):
    customer_lookup = None  # staff only


class AccessPointAccount(models.Model):
    """The partner's account with a Peppol access point. Active once the partner's legal entity and its
    Peppol identifier exist at the access point; only then are documents sent."""

    class Provider(models.TextChoices):
        STORECOVE = "storecove", _("Storecove")

    class Status(models.TextChoices):
        PENDING = "pending", _("Not registered yet")
        ACTIVE = "active", _("Sending")
        ERROR = "error", _("Registration refused")
        PAUSED = "paused", _("Paused")

    partner = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("access point"), max_length=16, choices=Provider.choices, default=Provider.STORECOVE)
    api_key_encrypted = models.TextField(_("API key (encrypted)"))
    key_hint = models.CharField(_("key ends with"), max_length=8, blank=True)
    # The token in the webhook's address the access point calls; made by the portal, encrypted at rest.
    webhook_secret_encrypted = models.TextField(_("webhook secret (encrypted)"))
    legal_entity_id = models.BigIntegerField(_("legal entity"), null=True, blank=True)
    # The demo partner's account (`manage.py seed_demo`): shown like any other, never calls Storecove.
    demo = models.BooleanField(_("demo account"), default=False)
    # The Peppol identifier registered for the legal entity, as the access point spells it.
    peppol_scheme = models.CharField(_("Peppol scheme"), max_length=20, blank=True)
    peppol_id = models.CharField(_("Peppol identifier"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    last_error = models.CharField(_("last error"), max_length=1000, blank=True)
    updated_at = models.DateTimeField(default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = AccessPointAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("access point account")
        verbose_name_plural = _("access point accounts")

    def __str__(self) -> str:
        return f"{self.get_provider_display()} ({self.partner_id})"


class SubmissionQuerySet(TenantQuerySet["EInvoiceSubmission"]):
    customer_lookup = None  # staff only: customers get the document itself by email


class EInvoiceSubmission(models.Model):
    """One issued invoice or credit note sent over Peppol. One row per document (unique), created when
    the document is issued and sent after commit; `idempotency_guid` goes with every attempt, so the
    access point processes the document once however often a lost answer makes the portal ask again."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRYING = "retrying", _("Waiting to retry")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("document"), max_length=12, choices=Kind.choices)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    provider = models.CharField(_("access point"), max_length=16, choices=AccessPointAccount.Provider.choices)
    receiver_scheme = models.CharField(_("receiver scheme"), max_length=20)
    receiver_id = models.CharField(_("receiver identifier"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    idempotency_guid = models.UUIDField(default=uuid.uuid4)
    provider_guid = models.CharField(_("access point reference"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=1000, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    created_at = models.DateTimeField(_("queued"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("e-invoice submission")
        verbose_name_plural = _("e-invoice submissions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["invoice"], condition=Q(invoice__isnull=False), name="einvoice_submission_invoice_once"),
            models.UniqueConstraint(
                fields=["credit_note"], condition=Q(credit_note__isnull=False), name="einvoice_submission_note_once"
            ),
            models.CheckConstraint(
                condition=(Q(kind="invoice", invoice__isnull=False, credit_note__isnull=True)
                           | Q(kind="credit_note", invoice__isnull=True, credit_note__isnull=False)),
                name="einvoice_submission_one_document",
            ),
            models.UniqueConstraint(fields=["idempotency_guid"], name="einvoice_submission_guid_unique"),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["partner", "created_at", "id"], name="einv_sub_partner_created_idx"),
            models.Index(fields=["partner", "status", "id"], name="einv_sub_partner_status_idx"),
            models.Index(fields=["partner", "number", "id"], name="einv_sub_partner_number_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="einv_sub_due_idx"),
            models.Index(fields=["partner", "provider_guid"], name="einv_sub_provider_guid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.REJECTED, self.Status.FAILED)


class SubmissionEventQuerySet(TenantQuerySet["SubmissionEvent"]):
    customer_lookup = None


class SubmissionEvent(models.Model):
    """The history of a submission: each attempt, answer, webhook and staff action. A webhook event is
    stored once (`event_key`, unique per partner): a replay finds it and changes nothing."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    submission = models.ForeignKey(EInvoiceSubmission, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=clock.now)
    status = models.CharField(_("status"), max_length=10, choices=EInvoiceSubmission.Status.choices)
    detail = models.CharField(_("detail"), max_length=1000, blank=True)
    event_key = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = SubmissionEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("submission event")
        verbose_name_plural = _("submission events")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "event_key"], condition=~Q(event_key=""), name="einvoice_submission_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.at:%Y-%m-%d %H:%M}"
