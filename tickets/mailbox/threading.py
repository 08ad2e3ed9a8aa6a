"""Headers that make ticket emails one thread in mail clients and bring replies back to the ticket.

Every ticket email has its own Message-ID (recorded as a TicketEmail), answers the ticket's thread root
(a stable id per ticket, `<ticket-{id}.{partner}@{host}>`, never sent as a message of its own) and the
latest email the customer sent about it (In-Reply-To, References: RFC 5322 §3.6.4), and asks for
replies at the partner's support mailbox (Reply-To). `Auto-Submitted: auto-generated` (RFC 3834) keeps
out-of-office responders from answering, so no mail loop starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings

from partner_portal.models import Partner
from tickets.mailbox.models import InboundEmail, SupportMailbox, TicketEmail
from tickets.models import Ticket

_ROOT = re.compile(r"^<ticket-(\d+)\.(\d+)@([^>]+)>$")


def mail_host() -> str:
    return urlsplit(str(settings.PORTAL_BASE_URL)).hostname or "portal.invalid"


def thread_root_id(ticket: Ticket) -> str:
    return f"<ticket-{ticket.pk}.{ticket.partner_id}@{mail_host()}>"


def message_id_new() -> str:
    return make_msgid(domain=mail_host())


def reply_address(partner_id: int) -> str:
    """The partner's support mailbox address while it is read, else ""."""
    mailbox = SupportMailbox.objects.filter(partner_id=partner_id, active=True).only("address").first()
    return mailbox.address if mailbox is not None else ""


def thread_headers(ticket: Ticket) -> dict[str, str]:
    """In-Reply-To, References and Auto-Submitted of an email about `ticket` (its Message-ID apart)."""
    root = thread_root_id(ticket)
    latest = (
        InboundEmail.objects.filter(ticket=ticket, partner_id=ticket.partner_id)
        .order_by("-created_at", "-pk")
        .values_list("message_id", flat=True)
        .first()
    )
    references = [root, latest] if latest else [root]
    return {"In-Reply-To": references[-1], "References": " ".join(references), "Auto-Submitted": "auto-generated"}


def ticket_emails_record(*, ticket: Ticket, event: str, sent: Iterable[tuple[str, list[str]]]) -> None:
    """Remember the Message-IDs of emails about to be sent, so that replies to them find the ticket."""
    TicketEmail.objects.bulk_create(
        [
            TicketEmail(partner_id=ticket.partner_id, ticket=ticket, message_id=mid, event=event, recipients=to)
            for mid, to in sent
        ],
        ignore_conflicts=True,
    )


def ticket_for_thread(*, partner: Partner, ids: list[str]) -> Ticket | None:
    """The partner's ticket one of these Message-IDs belongs to, nearest first: an email the portal sent
    about it, or its thread root."""
    if not ids:
        return None
    sent = dict(TicketEmail.objects.filter(partner=partner, message_id__in=ids).values_list("message_id", "ticket_id"))
    host = mail_host()
    for mid in ids:
        ticket_id = sent.get(mid)
        if ticket_id is None:
            match = _ROOT.match(mid)
            if match and int(match.group(2)) == partner.pk and match.group(3) == host:
                ticket_id = int(match.group(1))
        if ticket_id is not None:
            ticket = Ticket.objects.for_partner(partner).filter(pk=ticket_id).select_related("customer").first()
            if ticket is not None:
                return ticket
    return None


def is_own_message(message_id: str) -> bool:
    """An email the portal sent itself (a copy come back to the mailbox)."""
    return TicketEmail.objects.filter(message_id=message_id).exists()
