"""Pay links: a signed address that lets whoever holds it pay one invoice without signing in.

The token is `django.core.signing` over the invoice's id and partner, salted for this use and dated,
so it names that invoice only and expires after PAY_LINK_MAX_AGE_DAYS. The invoice email and the
collections notices carry `invoice_pay_url(invoice)`. Whether the partner can take payments online is
decided by billing.payments_online, which registers itself here (the parts' layers let invoicing
import nothing above it).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.urls import reverse

from billing.invoicing.models import Invoice

_SALT = "billing.pay-link"
_provider_checks: list[Callable[[int], bool]] = []


def pay_link_provider_check_register(check: Callable[[int], bool]) -> None:
    """Have `check(partner_id)` say whether that partner takes payments online."""
    if check not in _provider_checks:
        _provider_checks.append(check)


def pay_link_token(invoice: Invoice) -> str:
    return signing.dumps({"i": invoice.pk, "p": invoice.partner_id}, salt=_SALT, compress=True)


class PayLinkInvalid(Exception):
    """The token was tampered with, is for another use, or has expired (`expired`)."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("pay link expired" if expired else "pay link invalid")
        self.expired = expired


def pay_link_read(token: str) -> tuple[int, int]:
    """The (invoice id, partner id) a token names; PayLinkInvalid when forged or expired."""
    max_age = settings.PAY_LINK_MAX_AGE_DAYS * 86400
    try:
        data = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise PayLinkInvalid(expired=True) from exc
    except signing.BadSignature as exc:
        raise PayLinkInvalid(expired=False) from exc
    if not isinstance(data, dict) or not isinstance(data.get("i"), int) or not isinstance(data.get("p"), int):
        raise PayLinkInvalid(expired=False)
    return data["i"], data["p"]


def invoice_pay_url(invoice: Invoice) -> str:
    """The absolute pay link of an open invoice, or "" when its partner takes no payments online
    (or the invoice is not open)."""
    if not invoice.is_open or not invoice.customer.card_payments:
        return ""
    if not any(check(invoice.partner_id) for check in _provider_checks):
        return ""
    path = reverse("pay_link", kwargs={"token": pay_link_token(invoice)})
    return settings.PORTAL_BASE_URL.rstrip("/") + path
