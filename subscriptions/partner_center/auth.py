"""App-only sign-in to Partner Center with msal, the token cache shared by every worker.

msal's ConfidentialClientApplication asks `{authority}/{partner tenant}` for a client-credentials
token with scope `{resource}/.default`. Its SerializableTokenCache is kept in Django's cache (Redis in
production), so workers share one token per app registration until it expires. msal talks through a
requests.Session of the portal's own: `trust_env=False` (REQUESTS_CA_BUNDLE and proxies from the
environment would otherwise override `verify=`) and `verify` set from PARTNER_CENTER_CA_BUNDLE.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

import msal
import requests
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from subscriptions.errors import PartnerCenterPermanentError, PartnerCenterTransientError

logger = logging.getLogger(__name__)

TOKEN_CACHE_SECONDS = 24 * 60 * 60  # msal drops expired tokens itself; this only bounds the entry
# msal's "error" values that a retry cannot fix: the app registration or its consent is wrong.
PERMANENT_SIGN_IN_ERRORS = (
    "invalid_client",
    "unauthorized_client",
    "invalid_scope",
    "invalid_request",
    "invalid_grant",
)


class _PortalSession(requests.Session):
    """A requests.Session with a default time-out on every request msal makes."""

    def __init__(self, *, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def http_session(*, timeout: float) -> requests.Session:
    """The requests.Session msal uses: the portal's CA bundle, nothing from the environment."""
    session = _PortalSession(timeout=timeout)
    session.trust_env = False
    session.verify = settings.PARTNER_CENTER_CA_BUNDLE or True
    session.headers["User-Agent"] = "csp-billing-portal/1.0"
    return session


# One msal application per app registration and process: msal reads the authority's OIDC metadata
# once, when the application is made, not on every push.
_APPLICATIONS: dict[str, tuple[msal.ConfidentialClientApplication, msal.SerializableTokenCache]] = {}
_APPLICATIONS_LOCK = threading.Lock()
_APPLICATIONS_MAX = 256


class TokenProvider:
    """Bearer tokens for one app registration in one cloud."""

    def __init__(
        self, *, authority: str, tenant_id: str, client_id: str, secret: str, scope: str, timeout: float
    ) -> None:
        self.authority = f"{authority.rstrip('/')}/{tenant_id}"
        self.client_id = client_id
        self.secret = secret
        self.scope = scope
        self.timeout = timeout
        digest = hashlib.sha256(f"{self.authority}|{client_id}|{scope}".encode()).hexdigest()
        self.cache_key = f"partner-center-msal:{digest}"
        # The secret and CA bundle are part of the process-local key: a rotated secret or another
        # bundle makes a new application.
        self._app_key = hashlib.sha256(
            f"{digest}|{secret}|{settings.PARTNER_CENTER_CA_BUNDLE}|{timeout}".encode()
        ).hexdigest()

    def _application(self) -> tuple[msal.ConfidentialClientApplication, msal.SerializableTokenCache]:
        with _APPLICATIONS_LOCK:
            if (known := _APPLICATIONS.get(self._app_key)) is not None:
                return known
        token_cache = msal.SerializableTokenCache()
        try:
            # instance_discovery=False: msal reads {authority}/v2.0/.well-known/openid-configuration
            # directly instead of asking login.microsoftonline.com about the host first.
            app = msal.ConfidentialClientApplication(
                self.client_id, client_credential=self.secret, authority=self.authority,
                token_cache=token_cache, http_client=http_session(timeout=self.timeout), instance_discovery=False,
            )  # fmt: skip
        except ValueError as exc:  # the OIDC metadata could not be read: wrong tenant or host down
            raise self._failed(str(exc), transient=True) from exc
        except requests.RequestException as exc:
            raise self._failed(str(exc), transient=True) from exc
        with _APPLICATIONS_LOCK:
            if len(_APPLICATIONS) >= _APPLICATIONS_MAX:
                _APPLICATIONS.clear()
            _APPLICATIONS[self._app_key] = (app, token_cache)
        return app, token_cache

    def _failed(self, detail: str, *, transient: bool, code: str = "") -> Exception:
        message = f"sign-in to Partner Center failed: {detail}"
        description = _("Signing in to Partner Center failed: %(detail)s") % {"detail": detail}
        if transient:
            return PartnerCenterTransientError(message, code=code, description=description)
        return PartnerCenterPermanentError(message, code=code, description=description, staff_message=description)

    def token(self, *, fresh: bool = False) -> str:
        """A bearer token: msal's cached one (shared through Django's cache) until it expires."""
        app, token_cache = self._application()
        if serialized := cache.get(self.cache_key):
            token_cache.deserialize(serialized)
        if fresh:  # a 401 on a token msal still considers valid: drop it and ask again
            for token in token_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN):
                token_cache.remove_at(token)
        try:
            result = app.acquire_token_for_client(scopes=[self.scope])
        except requests.RequestException as exc:
            raise self._failed(str(exc), transient=True) from exc
        if token_cache.has_state_changed:
            cache.set(self.cache_key, token_cache.serialize(), TOKEN_CACHE_SECONDS)
            token_cache.has_state_changed = False
        if "access_token" in result:
            return str(result["access_token"])
        error = str(result.get("error", ""))
        detail = f"{error}: {result.get('error_description', '')}".strip(": ")
        raise self._failed(detail, transient=error not in PERMANENT_SIGN_IN_ERRORS, code=error)
