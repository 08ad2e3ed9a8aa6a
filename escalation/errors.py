"""Preconditions of the escalation services. Their messages are shown to users as they are."""

from partner_portal.errors import ErrorKind, PortalError


class EscalationError(PortalError):
    pass


class EscalationNotEntitled(EscalationError):
    """The partner has no valid entitlement for the tier a ticket needs; the message says what would do."""

    kind = ErrorKind.UNPROCESSABLE
    code = "not_entitled"


class EscalationNotAllowed(EscalationError):
    """The ticket cannot be escalated now: closed, resolved, or already with Microsoft."""

    kind = ErrorKind.CONFLICT
    code = "not_allowed"


class EscalationInvalid(EscalationError):
    """An escalation change that breaks a rule (a status it cannot move to, a missing case number)."""


class EntitlementInvalid(EscalationError):
    """An entitlement with dates or a kind that cannot be recorded."""
