"""Partner Center's error answers as typed errors, with a sentence staff understand.

Error bodies are `{"code", "description", "data", "source"}` ("Partner Center REST error codes",
https://learn.microsoft.com/partner-center/developer/error-codes); a throttled call answers 429 with
`Retry-After` and `{"statusCode", "message"}` ("API throttling guidance",
https://learn.microsoft.com/partner-center/developer/api-throttling-guidance).
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from partner_portal import clock
from subscriptions.errors import (
    PartnerCenterConflict,
    PartnerCenterError,
    PartnerCenterGone,
    PartnerCenterPermanentError,
    PartnerCenterTransientError,
)

# Codes meaning Microsoft no longer has the subscription: the portal marks it deleted at Microsoft.
GONE_CODES = ("20003", "2011")
# "Etag is no longer valid" (400): the same as a 412, the subscription changed since it was read.
STALE_ETAG_CODES = ("2055",)


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


# Documented codes ("Partner Center REST error codes") and what staff should know and do.
STAFF_MESSAGES: dict[str, Callable[[], str]] = {
    "20003": lambda: _(
        "Microsoft has no subscription with this ID for this customer (error 20003): it was deleted or moved. "
        "The portal marks it as deleted at Microsoft; check the customer in Partner Center."
    ),
    "2011": lambda: _(
        "Microsoft has deleted this subscription, so its status can no longer be changed (error 2011). "
        "The portal marks it as deleted at Microsoft."
    ),
    "800091": lambda: _(
        "Microsoft does not accept changes to a subscription while it is suspended (error 800091). "
        "Reactivate it first, or make the change in Partner Center."
    ),
    "800096": lambda: _(
        "Microsoft does not allow the status of this subscription to be changed (error 800096), "
        "for example because of its offer or its term. Check the subscription in Partner Center."
    ),
    "900105": lambda: _(
        "The customer has Azure subscriptions in the suspended state, which Microsoft cannot move to the "
        "Azure plan (error 900105). Reactivate them in the Azure portal first."
    ),
    "900115": lambda: _(
        "Microsoft does not suspend an Azure plan while it has active Azure subscriptions (error 900115). "
        "Disable those Azure subscriptions in the Azure portal first."
    ),
    "900117": lambda: _(
        "Microsoft's cancellation window for this subscription has passed (error 900117): it can no longer "
        "be cancelled. Suspend it instead, or turn auto-renew off so it ends with its term."
    ),
    "900329": lambda: _(
        "This Partner Center operation does not accept app-only sign-in (error 900329). "
        "Make the change in Partner Center."
    ),
    "900421": lambda: _(
        "Partner Center refused a call signed in as app + user without multifactor authentication "
        "(error 900421). The portal signs in app-only; check the partner's app registration."
    ),
    "429": lambda: _(
        "Microsoft is limiting how fast the portal may call Partner Center (HTTP 429). "
        "The change is sent again after the wait Microsoft asked for."
    ),
}


def staff_message(code: str) -> str:
    make = STAFF_MESSAGES.get(code)
    return make() if make is not None else ""


def retry_after_seconds(value: str) -> float | None:
    """Retry-After as seconds ("57") or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - clock.now()).total_seconds())


def error_of(answer: HttpAnswer, what: str, *, next_request_id: str = "") -> PartnerCenterError:
    """Partner Center's answer as a typed error; `code` and `description` as Microsoft sent them."""
    body = answer.body if isinstance(answer.body, dict) else {}
    folded = {str(k).lower(): v for k, v in body.items()}
    code = str(folded.get("code", folded.get("errorcode", "")) or "")
    description = str(folded.get("description", folded.get("message", "")) or "")
    if answer.status == 429 and not code:
        code = "429"
    message = (
        f"{what}: HTTP {answer.status}" + (f" {code}" if code else "") + (f" — {description}" if description else "")
    )
    kwargs: dict[str, Any] = {
        "status": answer.status, "code": code, "description": description or message,
        "staff_message": staff_message(code), "next_request_id": next_request_id,
    }  # fmt: skip
    if code in GONE_CODES:
        return PartnerCenterGone(message, **kwargs)
    if answer.status == 412 or code in STALE_ETAG_CODES:
        return PartnerCenterConflict(message, **kwargs)
    if answer.status == 429:
        return PartnerCenterTransientError(
            message, retry_after=retry_after_seconds(answer.header("Retry-After")), **kwargs
        )
    if answer.status >= 500 or answer.status == 408:
        return PartnerCenterTransientError(message, **kwargs)
    return PartnerCenterPermanentError(message, **kwargs)
