"""The partner's support mailbox, every message read from it, and the Message-IDs of ticket emails sent."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partner_portal import clock
from partner_portal.models import Customer, Partner, User
from partner_portal.tenancy import TenantQuerySet
from tickets.models import Ticket, TicketMessage

# How the connection is secured; plain IMAP is never offered.
SECURITY_CHOICES = [
    ("tls", _("TLS from the start (IMAPS, usually port 993)")),
    ("starttls", _("STARTTLS (usually port 143)")),
]


class SupportMailboxQuerySet(TenantQuerySet["SupportMailbox"]):
    customer_lookup = None  # staff configuration; customers never see it


class SupportMailbox(models.Model):
    """Where a partner's customers write to support: read over IMAP with TLS, one per partner.

    The password is encrypted at rest with the Partner Center secrets' key (subscriptions.secrets) and
    never shown back. `uidvalidity`/`last_uid` say how far the folder was read; `locked_until` is the
    lease of the one reader at a time.
    """

    partner = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="support_mailbox")
    address = models.EmailField(
        _("support address"), help_text=_("Customers write here; ticket emails ask for replies to it.")
    )
    host = models.CharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(_("TLS"), max_length=8, choices=SECURITY_CHOICES, default="tls")
    username = models.CharField(_("user name"), max_length=255)
    password_encrypted = models.TextField(_("password (encrypted)"))
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    active = models.BooleanField(_("read this mailbox"), default=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last read"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    failures = models.PositiveIntegerField(_("failed checks in a row"), default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = SupportMailboxQuerySet.as_manager()

    class Meta:
        verbose_name = _("support mailbox")
        verbose_name_plural = _("support mailboxes")

    def __str__(self) -> str:
        return self.address


class InboundEmailQuerySet(TenantQuerySet["InboundEmail"]):
    customer_lookup = None  # staff pages only (the quarantine)


class InboundEmail(models.Model):
    """One message read from a support mailbox, and what became of it. Unique per mailbox by its UID
    and by its Message-ID, so a message read twice (or delivered twice) is processed once."""

    class Status(models.TextChoices):
        OPENED = "opened", _("Opened a ticket")
        REPLIED = "replied", _("Added to a ticket")
        QUARANTINED = "quarantined", _("Quarantined")
        ACCEPTED = "accepted", _("Accepted")
        DROPPED = "dropped", _("Dropped")
        IGNORED = "ignored", _("Ignored")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    mailbox = models.ForeignKey(SupportMailbox, on_delete=models.CASCADE, related_name="emails")
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(_("Message-ID"), max_length=998)
    from_address = models.CharField(_("from"), max_length=320)
    from_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body = models.TextField(_("message"), blank=True)
    raw = models.BinaryField()
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    refused_files = models.JSONField(default=list, blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ticket_message = models.ForeignKey(
        TicketMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), default=clock.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = InboundEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"], name="inbound_email_once_per_uid"),
            models.UniqueConstraint(fields=["mailbox", "message_id"], name="inbound_email_once_per_message_id"),
        ]
        indexes = [
            # The quarantine list: the partner's quarantined emails, newest first (keyset pages).
            models.Index(
                fields=["partner", "created_at", "id"],
                condition=Q(status="quarantined"),
                name="inbound_email_quarantine_idx",
            ),
            models.Index(fields=["ticket", "created_at"], name="inbound_email_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class TicketEmailQuerySet(TenantQuerySet["TicketEmail"]):
    customer_lookup = None


class TicketEmail(models.Model):
    """The Message-ID of an email the portal sent about a ticket: a reply quoting it in In-Reply-To or
    References lands on that ticket."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=998, unique=True)
    event = models.CharField(max_length=20)
    recipients = models.JSONField(default=list)
    created_at = models.DateTimeField(default=clock.now)

    objects = TicketEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket email")
        verbose_name_plural = _("ticket emails")

    def __str__(self) -> str:
        return self.message_id
