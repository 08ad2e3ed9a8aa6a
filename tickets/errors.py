"""Preconditions of the tickets services. Their messages are shown to users as they are."""

from __future__ import annotations

from partner_portal.errors import ErrorKind, PortalError


class TicketError(PortalError):
    pass


class OfferingInvalid(TicketError):
    """A support offering that cannot be saved; `fields` holds a message list per field."""


class TransitionNotAllowed(TicketError):
    """A status change the workflow (or the caller's role) does not allow."""

    kind = ErrorKind.CONFLICT


class TicketInvalid(TicketError):
    """A ticket created or changed with values that break a rule (foreign invoice, non-staff assignee...)."""


class AttachmentRefused(TicketError):
    """An upload that is too large, of a type not allowed, or whose content does not match its name."""


class PlanInvalid(TicketError):
    """A support plan (or an assignment) that cannot be saved; `fields` holds a message list per field."""


class MailboxInvalid(TicketError):
    """Support mailbox settings that cannot be saved; `fields` holds a message list per field."""


class InboundEmailDecided(TicketError):
    """A quarantined email that was accepted or dropped already."""

    kind = ErrorKind.CONFLICT


class CannedReplyInvalid(TicketError):
    """A canned reply that cannot be saved (unknown variable, no text, title taken); `fields` holds a
    message list per field."""


class ArticleInvalid(TicketError):
    """A knowledge base article that cannot be saved or published (no language written in full, a title
    without a text); `fields` holds a message list per field."""
