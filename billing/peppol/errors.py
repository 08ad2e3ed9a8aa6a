"""Refusals of Peppol sending, each with its kind (partner_portal.errors)."""

from __future__ import annotations

from partner_portal.errors import ErrorKind, PortalError


class PeppolError(PortalError):
    kind = ErrorKind.UNPROCESSABLE


class AccessPointAccountInvalid(PeppolError):
    kind = ErrorKind.INVALID


class AccessPointNotReady(PeppolError):
    """The partner has no active access-point account, or lacks what registration needs."""


class SubmissionNotRetryable(PeppolError):
    kind = ErrorKind.CONFLICT


class EvidenceUnavailable(PeppolError):
    """Storecove has no delivery evidence for the submission (not delivered, or not reachable)."""

    kind = ErrorKind.CONFLICT


class WebhookRefused(Exception):
    """A webhook call that is not the access point's: an unknown partner or a wrong token."""
