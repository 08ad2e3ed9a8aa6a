"""Support mailboxes: their settings, reading them into tickets, and the quarantine.

Reading (`support_mailbox_read`, every two minutes for every active mailbox): one reader per mailbox at
a time (a lease taken by a conditional UPDATE), messages fetched by UID above the last one read, each
processed in its own transaction together with the mailbox's `last_uid`, so a crash or a mailbox that
goes away mid-way leaves every message either fully processed or not at all, and the next run goes on
from there. `InboundEmail` is unique per mailbox by UID and by Message-ID: a message read twice, or
delivered twice, is processed once.

Routing (`inbound_email_process`): auto-replies, delivery reports, bulk mail and the portal's own emails
are recorded and ignored (no ticket, no answer, so no mail loop). A reply is matched to its ticket by
In-Reply-To/References against the emails the portal sent (tickets.mailbox.threading), else by the
ticket number in the subject, and is added to it when the sender is one of its customer's contacts or
the partner's staff. A new email from one customer's contact opens a ticket for that customer.
Everything else waits in the quarantine, where staff open a ticket for a customer they choose or drop it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.jobs import for_each_partner
from partner_portal.models import STAFF_ROLES, Customer, Invitation, Membership, Partner, Role, User
from partner_portal.services import InvitationRequest, invitation_create
from subscriptions.secrets import secret_decrypt, secret_encrypt
from tickets.errors import AttachmentRefused, InboundEmailDecided, MailboxInvalid, TicketInvalid
from tickets.mailbox import imap
from tickets.mailbox.models import InboundEmail, SupportMailbox
from tickets.mailbox.parsing import ParsedEmail, email_parse
from tickets.mailbox.threading import is_own_message, ticket_for_thread
from tickets.models import Ticket, TicketMessage
from tickets.services.attachments import MAX_FILES, attachment_check, attachment_store
from tickets.services.tickets import _apply_status, _notify, ticket_create, ticket_message_add

logger = logging.getLogger(__name__)

BATCH = 50  # messages per run and mailbox; the rest wait for the next run
LEASE = dt.timedelta(minutes=10)  # a reader that died gives the mailbox up after this
S = InboundEmail.Status
SECURITY = ("tls", "starttls")
TESTS_PER_WINDOW, TEST_WINDOW_SECONDS = 10, 600  # connection tests a partner may run


# ---- Settings ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxInput:
    address: str
    host: str
    port: int
    username: str
    password: str = ""  # empty keeps the stored one
    folder: str = "INBOX"
    active: bool = True
    security: str = "tls"  # "tls" (IMAPS) or "starttls"; plain IMAP is not offered


def _check(mailbox: SupportMailbox | None, data: MailboxInput) -> None:
    errors: dict[str, list[str]] = {}
    if mailbox is None and not data.password:
        errors["password"] = [_("Enter the mailbox's password.")]
    elif mailbox is not None and not data.password and _elsewhere(mailbox, data):
        # The stored password is only ever sent where it was entered for: never to another server or user.
        errors["password"] = [_("Enter the password again when you change the server or the user name.")]
    if not 1 <= data.port <= 65535:
        errors["port"] = [_("Enter a port between 1 and 65535.")]
    if data.security not in SECURITY:
        errors["security"] = [_("Choose TLS from the start or STARTTLS.")]
    for name in ("address", "host", "username", "folder"):
        if not str(getattr(data, name)).strip():
            errors[name] = [_("This field is required.")]
    if errors:
        raise MailboxInvalid(fields=errors)


def _elsewhere(mailbox: SupportMailbox, data: MailboxInput) -> bool:
    return (mailbox.host.lower(), mailbox.username) != (data.host.strip().lower(), data.username.strip())


@transaction.atomic
def support_mailbox_save(*, partner: Partner, actor: User | None, data: MailboxInput) -> SupportMailbox:
    """Create or change the partner's support mailbox. The password is stored encrypted; an empty one
    keeps the stored password (a new mailbox needs one, and so does a change of server or user name:
    the stored password never goes to another server). A changed server, user or folder reads the
    folder from its start (messages already read are recognised by Message-ID). Audited without the
    password."""
    mailbox = SupportMailbox.objects.select_for_update().filter(partner=partner).first()
    _check(mailbox, data)
    if mailbox is None:
        mailbox = SupportMailbox(partner=partner)
    moved = (mailbox.host, mailbox.username, mailbox.folder) != (data.host.strip(), data.username.strip(),
                                                                  data.folder.strip())  # fmt: skip
    reconnect = moved or (mailbox.port, mailbox.security) != (data.port, data.security)
    mailbox.address, mailbox.host, mailbox.port = data.address.strip().lower(), data.host.strip(), data.port
    mailbox.security = data.security
    mailbox.username, mailbox.folder, mailbox.active = data.username.strip(), data.folder.strip(), data.active
    if data.password:
        mailbox.password_encrypted = secret_encrypt(data.password)
    if moved:
        mailbox.uidvalidity, mailbox.last_uid = None, 0
    if data.password or reconnect:
        mailbox.last_error, mailbox.failures = "", 0
    mailbox.updated_at, mailbox.updated_by = clock.now(), actor
    mailbox.save()
    audit_record(
        partner=partner, actor=actor, action="support_mailbox.saved", target=mailbox,
        data={"address": mailbox.address, "host": mailbox.host, "port": mailbox.port, "security": mailbox.security,
              "username": mailbox.username,
              "folder": mailbox.folder, "active": mailbox.active, "password_changed": bool(data.password)},
    )  # fmt: skip
    return mailbox


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str  # one sentence for the person who asked, in their language
    detail: str = ""  # the server's own words, when it failed


def mailbox_error_text(exc: imap.MailboxUnavailable, *, host: str, port: int, folder: str) -> str:
    """What went wrong, as a sentence that says what to check (the server's words stay in `exc`)."""
    where = {"host": host, "port": port, "folder": folder}
    texts = {
        imap.MailboxUnavailable.CONNECT: _("The server %(host)s could not be reached on port %(port)s. Check the "
                                           "server name and port (993 for TLS from the start, 143 for STARTTLS)."),
        imap.MailboxUnavailable.TLS: _("A secure (TLS) connection to %(host)s:%(port)s failed: the server does not "
                                       "offer this kind of TLS on this port, or its certificate is not trusted."),
        imap.MailboxUnavailable.TIMEOUT: _("The server %(host)s did not answer in time."),
        imap.MailboxUnavailable.LOGIN: _("The server refused the user name or password."),
        imap.MailboxUnavailable.FOLDER: _("Signed in, but the folder “%(folder)s” could not be opened. Check its "
                                          "name."),
    }  # fmt: skip
    text = texts.get(exc.step, _("The mailbox could not be read from %(host)s."))
    return str(text % where)


def support_mailbox_test(*, partner: Partner, actor: User | None, data: MailboxInput) -> ConnectionCheck:
    """Sign in to the mailbox `data` describes and open its folder, as the reader does (same client,
    same TLS checks), without saving the settings. An empty password tries the stored one. Settings
    that cannot be saved raise MailboxInvalid, as saving them would.

    Each test connects from the portal's servers to the host and port given, so a partner gets
    TESTS_PER_WINDOW of them per TEST_WINDOW_SECONDS, and each is audited (host, port, result)."""
    mailbox = SupportMailbox.objects.filter(partner=partner).first()
    _check(mailbox, data)
    key = f"support-mailbox-tests:{partner.pk}"
    cache.add(key, 0, TEST_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls
        count = 1
        cache.set(key, count, TEST_WINDOW_SECONDS)
    if count > TESTS_PER_WINDOW:
        return ConnectionCheck(False, _("Too many connection tests: try again in a few minutes."))
    check = _connection_check(mailbox, data)
    audit_record(
        partner=partner, actor=actor, action="support_mailbox.tested", target=mailbox or partner,
        data={"host": data.host.strip(), "port": data.port, "security": data.security, "ok": check.ok,
              "detail": check.detail[:200]},
    )  # fmt: skip
    return check


def _connection_check(mailbox: SupportMailbox | None, data: MailboxInput) -> ConnectionCheck:
    password = data.password
    if not password and mailbox is not None:
        try:
            password = secret_decrypt(mailbox.password_encrypted)
        except ValueError:
            return ConnectionCheck(False, _("The stored password cannot be read; enter it again."))
    host, folder = data.host.strip(), data.folder.strip()
    address = imap.MailboxAddress(host, data.port, data.username.strip(), password, folder, data.security)
    try:
        with imap.mailbox_session(address):
            pass
    except imap.MailboxUnavailable as exc:
        return ConnectionCheck(False, mailbox_error_text(exc, host=host, port=data.port, folder=folder), str(exc)[:500])
    return ConnectionCheck(
        True, _("Signed in to %(host)s and opened the folder “%(folder)s”.") % {"host": host, "folder": folder}
    )


# ---- Reading ----------------------------------------------------------------------------------------


@dataclass
class ReadResult:
    read: int = 0  # messages processed this run
    skipped: bool = False  # another reader holds the mailbox
    error: str = ""


def _claim(mailbox_id: int) -> bool:
    """Take the mailbox's lease; of two readers only one UPDATE matches."""
    now = clock.now()
    return bool(
        SupportMailbox.objects.filter(pk=mailbox_id, active=True)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(locked_until=now + LEASE)
    )


def support_mailbox_read(*, mailbox_id: int) -> ReadResult:
    """Read one mailbox: every message above the last UID read (up to BATCH), each processed once.

    Not transactional as a whole: each message commits on its own with the mailbox's progress. When the
    mailbox cannot be reached or read, the error is recorded on it and the next run tries again from
    the last message processed."""
    if not _claim(mailbox_id):
        return ReadResult(skipped=True)
    mailbox = SupportMailbox.objects.select_related("partner").get(pk=mailbox_id)
    result = ReadResult()
    try:
        try:
            password = secret_decrypt(mailbox.password_encrypted)
        except ValueError as exc:
            raise imap.MailboxUnavailable(_("The password cannot be read; enter it again.")) from exc
        address = imap.MailboxAddress(
            mailbox.host, mailbox.port, mailbox.username, password, mailbox.folder, mailbox.security
        )
        with imap.mailbox_session(address) as session:
            last_uid = mailbox.last_uid if mailbox.uidvalidity == session.uidvalidity else 0
            for uid in session.uids_after(last_uid, limit=BATCH):
                raw = session.fetch(uid)
                inbound_email_process(mailbox_id=mailbox.pk, uidvalidity=session.uidvalidity, uid=uid, raw=raw)
                result.read += 1
    except imap.MailboxUnavailable as exc:
        result.error = str(exc)[:1000]
        logger.warning("support mailbox %s unavailable: %s", mailbox.pk, result.error)
    now = clock.now()
    if result.error:
        SupportMailbox.objects.filter(pk=mailbox.pk).update(
            last_checked_at=now, last_error=result.error, failures=mailbox.failures + 1, locked_until=None
        )
    else:
        SupportMailbox.objects.filter(pk=mailbox.pk).update(
            last_checked_at=now, last_success_at=now, last_error="", failures=0, locked_until=None
        )
    return result


def support_mailboxes_read_partner(partner: Partner) -> ReadResult:
    mailbox = SupportMailbox.objects.filter(partner=partner, active=True).first()
    return support_mailbox_read(mailbox_id=mailbox.pk) if mailbox is not None else ReadResult()


def support_mailboxes_read_all(*, slug: str | None = None) -> list[tuple[Partner, ReadResult]]:
    """Read every partner's active mailbox (or the one partner's named)."""
    return for_each_partner(support_mailboxes_read_partner, slug=slug)


# ---- Routing one message ----------------------------------------------------------------------------


@dataclass
class Sender:
    """Who an address is for a partner: its staff member, or contacts of its customers (customer id →
    the customer user with that address, or None for a billing contact without one)."""

    staff: User | None
    customers: dict[int, User | None]

    @property
    def known(self) -> bool:
        return self.staff is not None or bool(self.customers)


def _sender(partner: Partner, address: str) -> Sender:
    staff: User | None = None
    customers: dict[int, User | None] = {}
    if not address:
        return Sender(None, {})
    memberships = Membership.objects.filter(partner=partner, user__email__iexact=address, user__is_active=True)
    for membership in memberships.select_related("user"):
        if membership.customer_id is None and membership.role in STAFF_ROLES:
            staff = membership.user
        elif membership.customer_id is not None:
            customers[membership.customer_id] = membership.user
    for customer_id in Customer.objects.filter(partner=partner, billing_email__iexact=address).values_list(
        "pk", flat=True
    ):
        customers.setdefault(customer_id, None)
    return Sender(staff, customers)


def _files(parsed: ParsedEmail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """The attachments that pass the uploads' checks (at most MAX_FILES), and a sentence per refused one."""
    accepted: list[SimpleUploadedFile] = []
    refused: list[str] = []
    for attachment in parsed.attachments:
        upload = SimpleUploadedFile(attachment.name, attachment.content, attachment.content_type)
        try:
            attachment_check(upload)
        except AttachmentRefused as exc:
            refused.append(str(exc))
            continue
        if len(accepted) >= MAX_FILES:
            refused.append(_("%(name)s: at most %(count)d files are taken from one email.")
                           % {"name": attachment.name, "count": MAX_FILES})  # fmt: skip
            continue
        accepted.append(upload)
    return accepted, refused


def _body(parsed: ParsedEmail) -> str:
    return parsed.reply or parsed.text.strip() or _("(The email had no text.)")


def _sender_label(parsed: ParsedEmail) -> str:
    return f"{parsed.from_name} <{parsed.from_address}>" if parsed.from_name else parsed.from_address


def _refused_note(ticket: Ticket, refused: list[str]) -> None:
    if refused:
        TicketMessage.objects.create(
            partner_id=ticket.partner_id, ticket=ticket, internal=True,
            body=_("Files of the email that were not attached:") + "\n" + "\n".join(refused),
        )  # fmt: skip


def _reply_by_contact(ticket: Ticket, parsed: ParsedEmail, files: list[SimpleUploadedFile]) -> TicketMessage:
    """A reply from a customer's contact who is no user of the portal (its billing email): added as the
    customer's reply, as `ticket_message_add` adds a customer user's."""
    ticket = Ticket.objects.select_for_update().select_related("partner", "customer").get(pk=ticket.pk)
    now = clock.now()
    message = TicketMessage.objects.create(
        partner_id=ticket.partner_id, ticket=ticket, author=None, body=_body(parsed), internal=False,
        email_from=_sender_label(parsed)[:400], created_at=now,
    )  # fmt: skip
    for upload in files:
        attachment_store(ticket=ticket, message=message, upload=upload, uploaded_by=None)
    old = ticket.status
    if ticket.status == Ticket.Status.PENDING_CUSTOMER:
        _apply_status(ticket, Ticket.Status.OPEN, now)
    ticket.updated_at = now
    ticket.save()
    audit_record(
        partner=ticket.partner, customer=ticket.customer, actor=None, action="ticket.replied", target=ticket,
        data={"message": message.pk, "attachments": len(files), "by_customer": True, "by_email": True},
    )  # fmt: skip
    if old != ticket.status:
        audit_record(
            partner=ticket.partner, customer=ticket.customer, actor=None, action="ticket.status_changed",
            target=ticket, data={"from": old, "to": ticket.status, "note": "", "by_customer": True},
        )  # fmt: skip
    _notify("customer_reply", ticket, message)
    return message


def _open_ticket(
    partner: Partner, customer: Customer, user: User | None, parsed: ParsedEmail, files: list[SimpleUploadedFile]
) -> Ticket:
    subject = " ".join(parsed.subject.split())[:200] or _("Email from %(sender)s") % {"sender": parsed.from_address}
    description = _body(parsed)
    if user is None:
        description = _("Sent by email from %(sender)s.") % {"sender": _sender_label(parsed)} + "\n\n" + description
    return ticket_create(
        partner=partner, customer=customer, opened_by=user, subject=subject, description=description, files=files
    )


def _route(mailbox: SupportMailbox, email: InboundEmail, parsed: ParsedEmail) -> None:
    """Decide what the email becomes and do it (inside the caller's transaction)."""
    partner = mailbox.partner
    if is_own_message(parsed.message_id) or parsed.from_address == mailbox.address:
        email.status, email.reason = S.IGNORED, "own email"
        return
    if parsed.machine:
        email.status, email.reason = S.IGNORED, parsed.machine
        return
    sender = _sender(partner, parsed.from_address)
    ticket = ticket_for_thread(partner=partner, ids=parsed.thread_ids)
    if ticket is None:
        for number in parsed.ticket_numbers():
            ticket = Ticket.objects.for_partner(partner).filter(number=number).select_related("customer").first()
            if ticket is not None:
                break
    files, email.refused_files = _files(parsed)
    if ticket is not None and (sender.staff is not None or ticket.customer_id in sender.customers):
        if sender.staff is not None:
            email.ticket_message = ticket_message_add(
                ticket=ticket, author=sender.staff, body=_body(parsed), internal=False, files=files
            )
            email.status, email.ticket = S.REPLIED, ticket
        elif ticket.status == Ticket.Status.CLOSED:
            # A closed ticket stays closed: the customer's new email is a new ticket.
            email.ticket = _open_ticket(partner, ticket.customer, sender.customers[ticket.customer_id], parsed, files)
            email.status = S.OPENED
        elif (user := sender.customers[ticket.customer_id]) is not None:
            email.ticket_message = ticket_message_add(
                ticket=ticket, author=user, body=_body(parsed), internal=False, files=files
            )
            email.status, email.ticket = S.REPLIED, ticket
        else:
            email.ticket_message = _reply_by_contact(ticket, parsed, files)
            email.status, email.ticket = S.REPLIED, ticket
        email.customer_id = ticket.customer_id
        _refused_note(email.ticket, email.refused_files)
        return
    if ticket is None and len(sender.customers) == 1:
        ((customer_id, user),) = sender.customers.items()
        customer = Customer.objects.get(pk=customer_id)
        email.ticket = _open_ticket(partner, customer, user, parsed, files)
        email.status, email.customer = S.OPENED, customer
        _refused_note(email.ticket, email.refused_files)
        return
    email.status = S.QUARANTINED
    if ticket is not None:
        email.reason = "not a contact of the ticket's customer"
    elif len(sender.customers) > 1:
        email.reason = "contact of several customers"
    elif sender.staff is not None:
        email.reason = "staff email without a ticket"
    else:
        email.reason = "unknown sender"


def inbound_email_process(*, mailbox_id: int, uidvalidity: int, uid: int, raw: bytes) -> InboundEmail | None:
    """Process one message read from the mailbox, once: record it, route it, and move the mailbox's
    progress, all in one transaction. None when it was processed before (same UID or Message-ID)."""
    parsed = email_parse(raw)
    with transaction.atomic():
        # The mailbox row lock serialises the processing of one mailbox's messages.
        mailbox = SupportMailbox.objects.select_for_update().select_related("partner").get(pk=mailbox_id)
        seen = InboundEmail.objects.filter(mailbox=mailbox).filter(
            Q(uidvalidity=uidvalidity, uid=uid) | Q(message_id=parsed.message_id)
        )
        created = None
        if not seen.exists():
            email = InboundEmail(
                partner_id=mailbox.partner_id, mailbox=mailbox, uidvalidity=uidvalidity, uid=uid,
                message_id=parsed.message_id, from_address=parsed.from_address, from_name=parsed.from_name,
                subject=parsed.subject, body=_body(parsed), raw=raw, sent_at=parsed.sent_at,
            )  # fmt: skip
            try:
                with transaction.atomic():
                    _route(mailbox, email, parsed)
            except (TicketInvalid, AttachmentRefused) as exc:
                # The ticket refused it (e.g. a closed ticket's rule): staff decide in the quarantine.
                email.status, email.reason = S.QUARANTINED, str(exc)[:200]
                email.ticket = email.ticket_message = None
            email.reason = email.reason[:200]
            try:
                with transaction.atomic():
                    email.save()
            except IntegrityError:
                pass  # the same message under another UID, saved by a concurrent reader
            else:
                created = email
                if email.status != S.IGNORED:
                    audit_record(
                        partner=mailbox.partner, customer=email.customer, actor=None,
                        action="support_mailbox.email_read", target=email.ticket or email,
                        data={"status": email.status, "from": email.from_address, "subject": email.subject[:200],
                              "reason": email.reason},
                    )  # fmt: skip
        if mailbox.uidvalidity != uidvalidity or mailbox.last_uid < uid:
            # A new UIDVALIDITY means the folder's UIDs restarted: this UID is where the reading stands.
            last = uid if mailbox.uidvalidity != uidvalidity else max(uid, mailbox.last_uid)
            mailbox.uidvalidity, mailbox.last_uid = uidvalidity, last
            mailbox.save(update_fields=["uidvalidity", "last_uid"])
        return created


# ---- The quarantine ---------------------------------------------------------------------------------


def _claim_quarantined(email: InboundEmail) -> InboundEmail:
    email = InboundEmail.objects.select_for_update().select_related("partner").get(pk=email.pk)
    if email.status != S.QUARANTINED:
        raise InboundEmailDecided(_("This email was dealt with already: %(status)s.")
                                  % {"status": email.get_status_display().lower()})  # fmt: skip
    return email


@transaction.atomic
def inbound_email_accept(*, email: InboundEmail, customer: Customer, actor: User) -> Ticket:
    """Open a ticket for `customer` from a quarantined email (its text and the attachments that pass the
    checks). Once: a second accept or a drop is refused. Audited."""
    email = _claim_quarantined(email)
    if customer.partner_id != email.partner_id:
        raise TicketInvalid(fields={"customer": [_("That customer is not one of yours.")]})
    parsed = email_parse(bytes(email.raw))
    files, refused = _files(parsed)
    sender = _sender(email.partner, parsed.from_address)
    ticket = _open_ticket(email.partner, customer, sender.customers.get(customer.pk), parsed, files)
    _refused_note(ticket, refused)
    email.status, email.ticket, email.customer = S.ACCEPTED, ticket, customer
    email.decided_at, email.decided_by = clock.now(), actor
    email.save(update_fields=["status", "ticket", "customer", "decided_at", "decided_by"])
    audit_record(
        partner=email.partner, customer=customer, actor=actor, action="support_mailbox.email_accepted",
        target=ticket, data={"email": email.pk, "from": email.from_address, "subject": email.subject[:200]},
    )  # fmt: skip
    return ticket


@transaction.atomic
def inbound_email_drop(*, email: InboundEmail, actor: User) -> InboundEmail:
    """Drop a quarantined email: nothing is opened and nobody is answered. Audited."""
    email = _claim_quarantined(email)
    email.status, email.decided_at, email.decided_by = S.DROPPED, clock.now(), actor
    email.save(update_fields=["status", "decided_at", "decided_by"])
    audit_record(
        partner=email.partner, actor=actor, action="support_mailbox.email_dropped", target=email,
        data={"from": email.from_address, "subject": email.subject[:200]},
    )  # fmt: skip
    return email


def inbound_email_sender_invite(*, email: InboundEmail, actor: User, base_url: str) -> Invitation:
    """Invite the sender of an accepted email as a user (member) of the customer it was accepted for,
    so that their next emails open tickets by themselves. The invitation's own rules apply (someone
    already on the partner's team is refused); audited as any invitation."""
    email = InboundEmail.objects.select_related("partner", "customer").get(pk=email.pk)
    if email.status != S.ACCEPTED or email.customer is None:
        raise TicketInvalid(_("Only the sender of an accepted email can be invited."))
    if not email.from_address:
        raise TicketInvalid(_("The email has no sender address to invite."))
    return invitation_create(
        partner=email.partner, actor=actor, base_url=base_url,
        request=InvitationRequest(email=email.from_address, role=Role.CUSTOMER_MEMBER, customer=email.customer),
    )  # fmt: skip
