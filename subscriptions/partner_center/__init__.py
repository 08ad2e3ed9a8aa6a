"""Partner Center: the REST client (client.py), sign-in with msal (auth.py), clouds (clouds.py) and
Microsoft's error codes as sentences staff understand (codes.py)."""

from subscriptions.partner_center.client import (
    MAX_INLINE_RETRY_AFTER,
    Credentials,
    PartnerCenterClient,
    etag_of,
    field,
)
from subscriptions.partner_center.clouds import CLOUDS, GERMANY, authority_url, cloud_endpoints
from subscriptions.partner_center.codes import HttpAnswer, error_of, retry_after_seconds, staff_message

__all__ = [
    "CLOUDS",
    "GERMANY",
    "MAX_INLINE_RETRY_AFTER",
    "Credentials",
    "HttpAnswer",
    "PartnerCenterClient",
    "authority_url",
    "cloud_endpoints",
    "error_of",
    "etag_of",
    "field",
    "retry_after_seconds",
    "staff_message",
]
