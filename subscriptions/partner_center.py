"""Client of Partner Center's REST API for subscription status changes (DESIGN.md §7).

As Microsoft documents it:

- token: client credentials at `{authority}/{partner AAD tenant}/oauth2/token` with resource
  https://api.partnercenter.microsoft.com; the authority depends on the partner's cloud
  (login.microsoftonline.com, .us for US Government, .de for Germany), the API host does not;
- `GET  {api}/v1/customers/{customer-tenant-id}/subscriptions/{id}` returns the resource and its ETag;
- `PATCH` the same URL with the resource, `status` set to "suspended" or "active", `If-Match` with the
  ETag just read; 200 with the updated subscription, or 202 with `Location` to poll;
- headers `MS-RequestId` (the same on every retry of one change, so Microsoft de-duplicates it) and
  `MS-CorrelationId` (new per call); errors as `{"code", "description"}`; 429 with `Retry-After`.

One attempt retries 5xx answers and time-outs with backoff and waits out a 429, then gives up with a
PartnerCenterTransientError; the change is tried again later. 404/20003, 800091 and other 4xx are
PartnerCenterPermanentError: not retried, shown to staff.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from partner_portal import clock
from subscriptions.errors import (
    PartnerCenterConflict,
    PartnerCenterError,
    PartnerCenterPermanentError,
    PartnerCenterTransientError,
)

logger = logging.getLogger(__name__)

# Sign-in authorities per Partner Center cloud (Partner.Cloud values).
AUTHORITIES = {
    "global": "https://login.microsoftonline.com",
    "us_government": "https://login.microsoftonline.us",
    "germany": "https://login.microsoftonline.de",
}
# The resource the token is asked for: Partner Center's API, the same in every cloud.
RESOURCE = "https://api.partnercenter.microsoft.com"
# Longest Retry-After waited out inside one attempt; a longer one ends the attempt and sets the next.
MAX_INLINE_RETRY_AFTER = 30.0
USER_AGENT = "csp-billing-portal/1.0"


@dataclass(frozen=True)
class Credentials:
    cloud: str
    aad_tenant_id: str
    application_id: str
    secret: str


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def authority_url(cloud: str, override: str = "") -> str:
    """The sign-in authority of `cloud`; `override` (tests, sovereign proxies) replaces only the host."""
    if override:
        return override.rstrip("/")
    try:
        return AUTHORITIES[cloud]
    except KeyError as exc:
        raise PartnerCenterPermanentError(f"unknown Partner Center cloud {cloud!r}") from exc


def _retry_after_seconds(value: str) -> float | None:
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


def _error_of(answer: HttpAnswer, what: str) -> PartnerCenterError:
    """Partner Center's {code, description} as a typed error."""
    body = answer.body if isinstance(answer.body, dict) else {}
    code = str(body.get("code", body.get("errorCode", "")) or "")
    description = str(body.get("description", body.get("message", "")) or "")
    message = (
        f"{what}: HTTP {answer.status}" + (f" {code}" if code else "") + (f" — {description}" if description else "")
    )
    kwargs: dict[str, Any] = {"status": answer.status, "code": code, "description": description or message}
    if answer.status == 412:
        return PartnerCenterConflict(message, **kwargs)
    if answer.status == 429:
        return PartnerCenterTransientError(
            message, retry_after=_retry_after_seconds(answer.header("Retry-After")), **kwargs
        )
    if answer.status >= 500 or answer.status == 408:
        return PartnerCenterTransientError(message, **kwargs)
    return PartnerCenterPermanentError(message, **kwargs)


class PartnerCenterClient:
    """One partner's connection to Partner Center. Thread-safe; the token is cached until it expires."""

    def __init__(
        self,
        *,
        credentials: Credentials,
        api_url: str | None = None,
        authority_override: str | None = None,
        timeout: float | None = None,
        tries: int | None = None,
        backoff: float | None = None,
        poll_seconds: float | None = None,
        poll_tries: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials
        self.api_url = (api_url or settings.PARTNER_CENTER_API_URL).rstrip("/")
        self.authority = authority_url(
            credentials.cloud,
            settings.PARTNER_CENTER_AUTHORITY_URL if authority_override is None else authority_override,
        )
        self.timeout = settings.PARTNER_CENTER_TIMEOUT_SECONDS if timeout is None else timeout
        self.tries = max(1, settings.PARTNER_CENTER_CALL_TRIES if tries is None else tries)
        self.backoff = settings.PARTNER_CENTER_CALL_BACKOFF_SECONDS if backoff is None else backoff
        self.poll_seconds = settings.PARTNER_CENTER_POLL_SECONDS if poll_seconds is None else poll_seconds
        self.poll_tries = settings.PARTNER_CENTER_POLL_TRIES if poll_tries is None else poll_tries
        self.sleep = sleep

    # --- sign-in ---------------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return f"{self.authority}/{self.credentials.aad_tenant_id}/oauth2/token"

    def _token_cache_key(self) -> str:
        c = self.credentials
        digest = hashlib.sha256(f"{self.token_url}|{c.application_id}|{c.secret}".encode()).hexdigest()
        return f"partner-center-token:{digest}"

    def access_token(self, *, fresh: bool = False) -> str:
        """A bearer token for Partner Center, from the cache until a minute before it expires."""
        key = self._token_cache_key()
        if not fresh and (token := cache.get(key)):
            return str(token)
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.credentials.application_id,
                "client_secret": self.credentials.secret,
                "resource": RESOURCE,
            }
        ).encode()
        answer = self._send(
            "POST", self.token_url, {"Content-Type": "application/x-www-form-urlencoded"}, form, what="sign-in"
        )
        if answer.status != 200 or not isinstance(answer.body, dict) or "access_token" not in answer.body:
            body = answer.body if isinstance(answer.body, dict) else {}
            message = f"sign-in to Partner Center failed: HTTP {answer.status} {body.get('error', '')}".strip()
            description = str(body.get("error_description", "") or message)
            if answer.status >= 500 or answer.status == 429:
                raise PartnerCenterTransientError(message, status=answer.status, description=description)
            raise PartnerCenterPermanentError(
                message, status=answer.status, code=str(body.get("error", "")), description=description
            )
        token = str(answer.body["access_token"])
        try:
            lifetime = int(answer.body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600
        cache.set(key, token, max(lifetime - 60, 1))
        return token

    # --- HTTP ------------------------------------------------------------------------------

    def _send(self, method: str, url: str, headers: dict[str, str], data: bytes | None, *, what: str) -> HttpAnswer:
        """One HTTP exchange. A time-out or a refused connection is a PartnerCenterTransientError."""
        if not url.startswith(("https://", "http://")):
            raise PartnerCenterPermanentError(f"{what}: refusing to call {url!r}")
        # The scheme is checked just above: https, or http for a test double on localhost.
        request = urllib.request.Request(url, data=data, method=method, headers={"User-Agent": USER_AGENT, **headers})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, raw, got = response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            status, raw, got = exc.code, exc.read(), exc.headers
        except TimeoutError as exc:
            raise PartnerCenterTransientError(f"{what}: no answer within {self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise PartnerCenterTransientError(f"{what}: no answer within {self.timeout:g} s") from exc
            raise PartnerCenterTransientError(f"{what}: {exc.reason}") from exc
        except (ConnectionError, OSError) as exc:
            raise PartnerCenterTransientError(f"{what}: {exc}") from exc
        try:
            body = json.loads(raw.decode("utf-8-sig")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = None
        return HttpAnswer(status=status, headers={k.lower(): v for k, v in got.items()}, body=body)

    def _call(
        self,
        method: str,
        url: str,
        *,
        request_id: str,
        what: str,
        payload: dict[str, Any] | None = None,
        if_match: str = "",
    ) -> HttpAnswer:
        """One API call with retries: 5xx and time-outs back off, 429 waits out Retry-After, a 401
        signs in again once. Same MS-RequestId on every try, a new MS-CorrelationId on each.
        Returns any other answer (2xx or a 4xx the caller maps)."""
        data = json.dumps(payload).encode() if payload is not None else None
        signed_in_again = False
        last: PartnerCenterError | None = None
        pause = self.backoff
        for attempt in range(1, self.tries + 1):
            headers = {
                "Authorization": f"Bearer {self.access_token()}",
                "Accept": "application/json",
                "MS-RequestId": request_id,
                "MS-CorrelationId": str(uuid.uuid4()),
            }
            if data is not None:
                headers["Content-Type"] = "application/json"
            if if_match:
                headers["If-Match"] = if_match
            try:
                answer = self._send(method, url, headers, data, what=what)
            except PartnerCenterTransientError as exc:
                last = exc
            else:
                if answer.status == 401 and not signed_in_again:
                    signed_in_again = True
                    self.access_token(fresh=True)
                    continue
                if answer.status < 500 and answer.status not in (408, 429):
                    return answer
                last = _error_of(answer, what)
            if attempt == self.tries:
                break
            wait = pause
            if last.retry_after is not None:
                if last.retry_after > MAX_INLINE_RETRY_AFTER:
                    break  # too long to hold a worker: the change's next attempt waits instead
                wait = last.retry_after
            logger.info("Partner Center %s: %s; try %d again in %.1f s", what, last, attempt + 1, wait)
            self.sleep(wait)
            pause *= 2
        if last is None:  # pragma: no cover - the loop always runs at least once
            raise RuntimeError("no try was made")
        raise last

    def _subscription_url(self, customer_tenant_id: str, subscription_id: str) -> str:
        return (
            f"{self.api_url}/v1/customers/{urllib.parse.quote(customer_tenant_id)}"
            f"/subscriptions/{urllib.parse.quote(subscription_id)}"
        )

    # --- subscriptions ---------------------------------------------------------------------

    def subscription_get(self, *, customer_tenant_id: str, subscription_id: str) -> tuple[dict[str, Any], str]:
        """The subscription resource and its ETag (from the header, else the resource's `etag`)."""
        url = self._subscription_url(customer_tenant_id, subscription_id)
        # A read needs no de-duplication: its own request id.
        answer = self._call("GET", url, request_id=str(uuid.uuid4()), what="reading the subscription")
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise _error_of(answer, "reading the subscription")
        etag = answer.header("ETag") or str(answer.body.get("etag", "") or answer.body.get("eTag", ""))
        return answer.body, etag

    def subscription_status_set(
        self, *, customer_tenant_id: str, subscription_id: str, status: str, request_id: str
    ) -> dict[str, Any]:
        """Set the subscription's status to "suspended" or "active"; Microsoft's answer on success.

        Reads the subscription first: already in that status means nothing to send. A 412 (the
        ETag changed under us) reads again and sends once more before giving up with a conflict.
        """
        if status not in ("suspended", "active"):
            raise ValueError(f"not a Partner Center status: {status!r}")
        url = self._subscription_url(customer_tenant_id, subscription_id)
        for round_ in (1, 2):
            resource, etag = self.subscription_get(
                customer_tenant_id=customer_tenant_id, subscription_id=subscription_id
            )
            if str(resource.get("status", "")).lower() == status:
                return {"http_status": 200, "already": True, "subscription": resource}
            answer = self._call(
                "PATCH", url, request_id=request_id, what="changing the status", payload={**resource, "status": status},
                if_match=etag,
            )  # fmt: skip
            if answer.status == 412 and round_ == 1:
                logger.info("Partner Center: subscription %s changed under us (412); reading it again", subscription_id)
                continue
            if answer.status == 202:
                return self._poll(answer, request_id=request_id)
            if answer.status in (200, 201, 204):
                return {"http_status": answer.status, "subscription": answer.body}
            raise _error_of(answer, "changing the status")
        raise AssertionError("unreachable")

    def _poll(self, accepted: HttpAnswer, *, request_id: str) -> dict[str, Any]:
        """Follow a 202's Location until the operation answers 200 (or give up: transient)."""
        location = accepted.header("Location")
        if not location:
            return {"http_status": 202, "subscription": accepted.body}
        url = urllib.parse.urljoin(self.api_url + "/", location)
        for _ in range(max(1, self.poll_tries)):
            wait = _retry_after_seconds(accepted.header("Retry-After"))
            self.sleep(self.poll_seconds if wait is None else min(wait, MAX_INLINE_RETRY_AFTER))
            accepted = self._call("GET", url, request_id=request_id, what="polling the change")
            if accepted.status == 202:
                continue
            if accepted.status == 200:
                return {"http_status": 200, "polled": location, "subscription": accepted.body}
            raise _error_of(accepted, "polling the change")
        raise PartnerCenterTransientError(f"the change is still being processed at {location}")
