"""Domain errors: every refusal of a service is a typed exception that declares its kind.

Pages show the message; the API's one exception handler (`partner_portal.apikit.exception_handler`)
turns the kind into a status and every refusal into one body `{"detail", "code", "fields"}`:

- INVALID → 400: the input breaks a rule (a field out of range, a foreign reference);
- CONFLICT → 409: the object's state does not allow the change (an issued invoice, a closed ticket);
- UNPROCESSABLE → 422: valid and allowed, but it cannot be done here (no entitlement, not configured);
- FORBIDDEN → 403: the caller's role may not do this.
"""

from __future__ import annotations

import enum
import re
from typing import ClassVar


class ErrorKind(enum.IntEnum):
    INVALID = 400
    FORBIDDEN = 403
    CONFLICT = 409
    UNPROCESSABLE = 422


class PortalError(Exception):
    """A request that breaks a rule; the message is shown to the user as it is.

    `fields` names the input fields at fault, each with its messages, when the refusal is about them.
    """

    kind: ClassVar[ErrorKind] = ErrorKind.INVALID
    code: ClassVar[str] = ""  # defaults to the class name in snake case: InvoiceNotEditable → invoice_not_editable

    def __init__(self, message: str = "", *, fields: dict[str, list[str]] | None = None) -> None:
        self.fields: dict[str, list[str]] = {name: [str(m) for m in msgs] for name, msgs in (fields or {}).items()}
        if not message and self.fields:
            message = "; ".join(m for msgs in self.fields.values() for m in msgs)
        super().__init__(message)

    @classmethod
    def error_code(cls) -> str:
        return cls.code or re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class InvitationInvalid(PortalError):
    pass


class RoleNotAllowed(PortalError):
    kind = ErrorKind.FORBIDDEN


class TeamChangeRefused(PortalError):
    """A change to the team that would leave it without an admin, or lock out the one making it."""

    kind = ErrorKind.CONFLICT
