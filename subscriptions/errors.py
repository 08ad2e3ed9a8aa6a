"""Typed errors of the subscriptions app: broken rules shown to users, and Partner Center's answers."""

from __future__ import annotations

from partner_portal.errors import ErrorKind, PortalError


class SubscriptionError(PortalError):
    """A subscription change that cannot be made as asked; the message is shown to the user."""


class SubscriptionStatusNotAllowed(SubscriptionError):
    """The subscription's status does not allow this change (cancelled, already suspended, in flight...)."""

    kind = ErrorKind.CONFLICT


class PartnerCenterNotConfigured(SubscriptionError):
    """The partner has no Partner Center account while the http backend is on."""

    kind = ErrorKind.UNPROCESSABLE


class PartnerCenterError(Exception):
    """An answer of Partner Center that is not a success. `code` and `description` as Microsoft sends them."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        description: str = "",
        retry_after: float | None = None,
        staff_message: str = "",
        next_request_id: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.description = description or message
        self.retry_after = retry_after  # seconds Microsoft asked us to wait (429), if it said
        # What staff read (English or Russian), when the code is one the portal explains.
        self.staff_message = staff_message
        # The MS-RequestId the next try of this change must carry: the same after a time-out (no
        # answer), a new one once Microsoft answered. Empty when the client did not say.
        self.next_request_id = next_request_id

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "code": self.code, "description": self.description}


class PartnerCenterTransientError(PartnerCenterError):
    """Worth retrying later: 5xx, 429, a time-out, a connection refused, a change still processing."""


class PartnerCenterConflict(PartnerCenterTransientError):
    """412: the subscription changed at Microsoft since we read its ETag (again, after one re-read)."""


class PartnerCenterPermanentError(PartnerCenterError):
    """Not worth retrying without a person looking: 404/20003, 800091 (status cannot change), bad credentials."""


class PartnerCenterGone(PartnerCenterPermanentError):
    """20003 (not found) or 2011 (deleted): Microsoft no longer has the subscription."""


class PartnerCenterCloudClosed(PartnerCenterPermanentError):
    """The partner's cloud is closed (Microsoft Cloud Germany, 29 October 2021): nothing is sent."""
