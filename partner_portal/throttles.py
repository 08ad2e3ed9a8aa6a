"""Throttles of failed API token requests, one per account and one per client address.

Only failures count: a request is refused while its account, or its address, has had too many failed
attempts within the window. The account's limit is low (guessing one password); the address's is
higher, so that one address failing for some emails does not lock every other account out from it
(an office behind one NAT). Counters live in the default cache (Redis in production), so they hold
across all web processes. Rates are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], as "<count>/<seconds>s".
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from allauth.account.adapter import get_adapter
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class FailureThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle that reads its window on every request but records only `failure()`."""

    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(self.scope))  # read when used, not at import
        return None if rate is None else str(rate)

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        if rate is None:
            return (None, None)
        match = _RATE.match(rate)
        if match is None:
            raise ValueError(f"not a throttle rate: {rate!r}")
        count, multiple, unit = match.groups()
        return int(count), int(multiple or 1) * _UNIT_SECONDS[unit]

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.history = [at for at in self.cache.get(self.key, []) if at > self.now - self.duration]
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    def failure(self) -> None:
        if self.rate is None or self.key is None:
            return
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class TokenAccountThrottle(FailureThrottle):
    scope = "auth_token_account"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenAddressThrottle(FailureThrottle):
    scope = "auth_token_address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        # allauth's reading of the client address, so TRUSTED_PROXY_COUNT applies here as on sign-in.
        address = get_adapter(request._request).get_client_ip(request._request)
        return self.cache_format % {"scope": self.scope, "ident": address}
