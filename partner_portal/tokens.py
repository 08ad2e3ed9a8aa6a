"""API token authentication: django-rest-knox's, on the portal's clock.

A token is refused once its expiry has passed (`clock.now()`, so tests and hand-run checks pin it) and
when its user is inactive. Refused tokens are not deleted here: the owner still sees them as expired in
their list until they remove them. Setting a password and deactivating an account, whatever does it,
delete them all (`User.save` calls `partner_portal.services.api_tokens_revoke_all`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication

from partner_portal.models import ApiToken


class ApiTokenAuthentication(TokenAuthentication):
    def _cleanup_token(self, auth_token: ApiToken) -> bool:
        """True when the token must be refused: it has expired."""
        return auth_token.is_expired()

    def renew_token(self, auth_token: Any) -> None:
        """Use never extends a token (AUTO_REFRESH is off); kept explicit so a setting cannot turn it on."""


class ApiTokenScheme(KnoxTokenScheme):
    """The schema's description of the token: `Authorization: Token <secret>`."""

    target_class = "partner_portal.tokens.ApiTokenAuthentication"
    name = "tokenAuth"
