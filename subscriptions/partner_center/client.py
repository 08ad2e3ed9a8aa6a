"""Client of Partner Center's REST API: subscription status changes, and the customer and subscription
lists the sync reads. As Microsoft documents it (learn.microsoft.com/partner-center/developer/...):

- `GET {api}/v1/customers/{customer-tenant-id}/subscriptions/{id}` ("Get a subscription by ID")
  answers the Subscription resource; its ETag is `attributes.etag` in the body (there is no ETag
  header);
- `PATCH` the same URL with the full resource, `status` changed, and `If-Match: {etag}` ("Suspend a
  subscription"); 200 with the updated resource, or 202 with `Location` to poll;
- headers ("Partner Center REST and response headers"): `MS-RequestId` is kept when a call is
  retried after a time-out and reset once an answer came (success or failure); every GET has its own;
  `MS-CorrelationId` is one per operation here (the GET, PATCH and polls of one suspension share it,
  so Microsoft support can follow the operation); `MS-Contract-Version: v1`;
- collections are `{totalCount, items, links: {next: {uri, headers: [{key: MS-ContinuationToken}]}}}`.

One call retries 5xx answers and time-outs with backoff and waits out a 429's `Retry-After` (seconds
or an HTTP date), then gives up with a PartnerCenterTransientError carrying the MS-RequestId the next
attempt must use. 412 reads the subscription again and sends once more.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from subscriptions.errors import (
    PartnerCenterConflict,
    PartnerCenterError,
    PartnerCenterPermanentError,
    PartnerCenterTransientError,
)
from subscriptions.partner_center.auth import TokenProvider
from subscriptions.partner_center.clouds import authority_url, cloud_endpoints
from subscriptions.partner_center.codes import HttpAnswer, error_of, retry_after_seconds

logger = logging.getLogger(__name__)

# Longest Retry-After waited out inside one attempt; a longer one ends the attempt and sets the next.
MAX_INLINE_RETRY_AFTER = 30.0
USER_AGENT = "csp-billing-portal/1.0"
CONTRACT_VERSION = "v1"
STATUSES = ("suspended", "active", "deleted")


@dataclass(frozen=True)
class Credentials:
    cloud: str
    aad_tenant_id: str
    application_id: str
    secret: str


def field(resource: Any, name: str) -> Any:
    """A property of a Partner Center resource whatever its casing: the documented examples use both
    `status`/`attributes.etag` and `Status`/`Attributes.Etag`."""
    if not isinstance(resource, dict):
        return None
    if name in resource:
        return resource[name]
    lowered = name.lower()
    return next((v for k, v in resource.items() if str(k).lower() == lowered), None)


def etag_of(resource: Any) -> str:
    """The resource's ETag: `attributes.etag` ("Get a subscription by ID", response example)."""
    return str(field(field(resource, "attributes"), "etag") or "")


def _new_id() -> str:
    return str(uuid.uuid4())


def _ssl_verify() -> ssl.SSLContext | bool:
    bundle = settings.PARTNER_CENTER_CA_BUNDLE
    return ssl.create_default_context(cafile=bundle) if bundle else True


class PartnerCenterClient:
    """One partner's connection to Partner Center in its cloud. Germany is refused on construction."""

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
        endpoints = cloud_endpoints(credentials.cloud)
        self.credentials = credentials
        self.api_url = (api_url or settings.PARTNER_CENTER_API_URL or endpoints.api_url).rstrip("/")
        self.authority = authority_url(
            credentials.cloud,
            settings.PARTNER_CENTER_AUTHORITY_URL if authority_override is None else authority_override,
        )
        self.scope = endpoints.scope
        self.timeout = settings.PARTNER_CENTER_TIMEOUT_SECONDS if timeout is None else timeout
        self.tries = max(1, settings.PARTNER_CENTER_CALL_TRIES if tries is None else tries)
        self.backoff = settings.PARTNER_CENTER_CALL_BACKOFF_SECONDS if backoff is None else backoff
        self.poll_seconds = settings.PARTNER_CENTER_POLL_SECONDS if poll_seconds is None else poll_seconds
        self.poll_tries = settings.PARTNER_CENTER_POLL_TRIES if poll_tries is None else poll_tries
        self.sleep = sleep
        self.tokens = TokenProvider(
            authority=self.authority, tenant_id=credentials.aad_tenant_id, client_id=credentials.application_id,
            secret=credentials.secret, scope=self.scope, timeout=self.timeout,
        )  # fmt: skip
        connect = min(self.timeout, settings.PARTNER_CENTER_CONNECT_TIMEOUT_SECONDS)
        self.http = httpx.Client(
            verify=_ssl_verify(), trust_env=False, timeout=httpx.Timeout(self.timeout, connect=connect),
            headers={"User-Agent": USER_AGENT},
        )  # fmt: skip

    @property
    def token_authority(self) -> str:
        """Where msal signs in: `{authority host}/{partner tenant}`."""
        return self.tokens.authority

    def close(self) -> None:
        self.http.close()

    # --- HTTP ------------------------------------------------------------------------------

    def _send(self, method: str, url: str, headers: dict[str, str], data: bytes | None, *, what: str) -> HttpAnswer:
        """One HTTP exchange. A time-out or a refused connection is a PartnerCenterTransientError."""
        if not url.startswith("https://"):
            raise PartnerCenterPermanentError(f"{what}: refusing to call {url!r} without TLS")
        try:
            response = self.http.request(method, url, headers=headers, content=data)
        except httpx.TimeoutException as exc:
            raise PartnerCenterTransientError(f"{what}: no answer within {self.timeout:g} s") from exc
        except httpx.TransportError as exc:
            raise PartnerCenterTransientError(f"{what}: {exc}") from exc
        raw = response.content
        try:
            body = json.loads(raw.decode("utf-8-sig")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = None
        return HttpAnswer(
            status=response.status_code, headers={k.lower(): v for k, v in response.headers.items()}, body=body
        )

    def _call(
        self,
        method: str,
        url: str,
        *,
        correlation_id: str,
        what: str,
        request_id: str = "",
        payload: dict[str, Any] | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[HttpAnswer, str]:
        """One API call with retries; returns the answer and the MS-RequestId it carried.

        5xx and time-outs back off, 429 waits out Retry-After, a 401 signs in again once. The
        MS-RequestId stays the same after a time-out (Microsoft may have done the work) and is new
        after any answer. Any other answer (2xx, a 4xx the caller maps) is returned."""
        data = json.dumps(payload).encode() if payload is not None else None
        rid = request_id or _new_id()
        signed_in_again = False
        last: PartnerCenterError | None = None
        pause = self.backoff
        for attempt in range(1, self.tries + 1):
            headers = {
                "Authorization": f"Bearer {self.tokens.token()}",
                "Accept": "application/json",
                "MS-RequestId": rid,
                "MS-CorrelationId": correlation_id,
                "MS-Contract-Version": CONTRACT_VERSION,
                **(extra_headers or {}),
            }
            if data is not None:
                headers["Content-Type"] = "application/json"
            try:
                answer = self._send(method, url, headers, data, what=what)
            except PartnerCenterTransientError as exc:
                last = exc  # no answer: the same MS-RequestId goes again
            else:
                if answer.status == 401 and not signed_in_again:
                    signed_in_again, rid = True, _new_id()
                    self.tokens.token(fresh=True)
                    continue
                if answer.status < 500 and answer.status not in (408, 429):
                    return answer, rid
                rid = _new_id()  # answered: the next call is a new request
                last = error_of(answer, what)
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
        last.next_request_id = rid
        raise last

    def _url(self, *parts: str) -> str:
        return self.api_url + "/v1/" + "/".join(urllib.parse.quote(p, safe="") for p in parts)

    # --- subscriptions ---------------------------------------------------------------------

    def subscription_get(
        self, *, customer_tenant_id: str, subscription_id: str, correlation_id: str = ""
    ) -> tuple[dict[str, Any], str]:
        """The subscription resource and its ETag (`attributes.etag`). Every GET has its own MS-RequestId."""
        url = self._url("customers", customer_tenant_id, "subscriptions", subscription_id)
        what = "reading the subscription"
        answer, _rid = self._call("GET", url, correlation_id=correlation_id or _new_id(), what=what)
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise error_of(answer, what)
        return answer.body, etag_of(answer.body)

    def subscription_status_set(
        self,
        *,
        customer_tenant_id: str,
        subscription_id: str,
        status: str,
        request_id: str,
        correlation_id: str = "",
        restore_auto_renew: bool = False,
    ) -> dict[str, Any]:
        """Set the subscription's status ("suspended", "active", or "deleted" to cancel); Microsoft's
        answer on success.

        Reads the subscription first: already in that status means nothing to send. The PATCH carries
        `request_id` and `If-Match` with the ETag just read. A stale ETag (412, 2055) reads again and
        sends once more before giving up with a conflict. The answer says which MS-RequestId Microsoft
        accepted (`request_id`) and auto-renew before the change (`auto_renew_before`). With
        `restore_auto_renew`, a reactivated subscription whose auto-renew is off gets it back
        ("Update autorenew for ... new commerce subscriptions": PATCH `autoRenewEnabled`).
        """
        if status not in STATUSES:
            raise ValueError(f"not a Partner Center status: {status!r}")
        correlation_id = correlation_id or _new_id()
        url = self._url("customers", customer_tenant_id, "subscriptions", subscription_id)
        rid = request_id
        for round_ in (1, 2):
            resource, etag = self.subscription_get(
                customer_tenant_id=customer_tenant_id, subscription_id=subscription_id, correlation_id=correlation_id
            )
            before = field(resource, "autoRenewEnabled")
            if str(field(resource, "status") or "").lower() == status:
                answer = {
                    "http_status": 200,
                    "already": True,
                    "subscription": resource,
                    "correlation_id": correlation_id,
                }
                return self._after(answer, url, status=status, before=before, restore=restore_auto_renew)
            answer_, rid = self._call(
                "PATCH", url, correlation_id=correlation_id, request_id=rid, what="changing the status",
                payload={**resource, "status": status}, extra_headers={"If-Match": etag} if etag else None,
            )  # fmt: skip
            stale = answer_.status == 412 or isinstance(error_of(answer_, ""), PartnerCenterConflict)
            if stale and round_ == 1:
                logger.info(
                    "Partner Center: subscription %s changed under us (ETag); reading it again", subscription_id
                )
                rid = _new_id()  # answered: a new request
                continue
            if answer_.status == 202:
                answer = {**self._poll(answer_, correlation_id=correlation_id), "request_id": rid}
            elif answer_.status in (200, 201, 204):
                answer = {
                    "http_status": answer_.status, "subscription": answer_.body, "request_id": rid,
                    "correlation_id": correlation_id,
                }  # fmt: skip
            else:
                raise error_of(answer_, "changing the status", next_request_id=_new_id())
            return self._after(answer, url, status=status, before=before, restore=restore_auto_renew)
        raise AssertionError("unreachable")

    def subscription_update(
        self,
        *,
        customer_tenant_id: str,
        subscription_id: str,
        changes: dict[str, Any],
        request_id: str = "",
        correlation_id: str = "",
    ) -> dict[str, Any]:
        """Change properties of the subscription other than its status, e.g. `{"quantity": 12}`
        ("Change the quantity of licenses in a customer subscription": GET it, PATCH the full resource
        with the property changed and `If-Match`, 200 with the updated resource). Already so: nothing is
        sent. A stale ETag reads again and sends once more."""
        correlation_id = correlation_id or _new_id()
        url = self._url("customers", customer_tenant_id, "subscriptions", subscription_id)
        rid = request_id or _new_id()
        for round_ in (1, 2):
            resource, etag = self.subscription_get(
                customer_tenant_id=customer_tenant_id, subscription_id=subscription_id, correlation_id=correlation_id
            )
            if all(field(resource, name) == value for name, value in changes.items()):
                return {"http_status": 200, "already": True, "subscription": resource, "request_id": rid,
                        "correlation_id": correlation_id}  # fmt: skip
            # The property under the name the resource uses (the documented examples use both casings).
            named = {next((k for k in resource if k.lower() == n.lower()), n): v for n, v in changes.items()}
            answer_, rid = self._call(
                "PATCH", url, correlation_id=correlation_id, request_id=rid, what="updating the subscription",
                payload={**resource, **named}, extra_headers={"If-Match": etag} if etag else None,
            )  # fmt: skip
            stale = answer_.status == 412 or isinstance(error_of(answer_, ""), PartnerCenterConflict)
            if stale and round_ == 1:
                rid = _new_id()
                continue
            if answer_.status == 202:
                return {**self._poll(answer_, correlation_id=correlation_id), "request_id": rid}
            if answer_.status in (200, 201, 204):
                return {"http_status": answer_.status, "subscription": answer_.body, "request_id": rid,
                        "correlation_id": correlation_id}  # fmt: skip
            raise error_of(answer_, "updating the subscription", next_request_id=_new_id())
        raise AssertionError("unreachable")

    def _after(self, answer: dict[str, Any], url: str, *, status: str, before: Any, restore: bool) -> dict[str, Any]:
        """Note auto-renew before the change; turn it back on after a reactivation when asked."""
        answer["auto_renew_before"] = before if isinstance(before, bool) else None
        resource = answer.get("subscription")
        if status != "active" or not restore or not isinstance(resource, dict):
            return answer
        if field(resource, "autoRenewEnabled") is not False:
            return answer
        try:
            turned_on, _rid = self._call(
                "PATCH", url, correlation_id=answer["correlation_id"], what="turning auto-renew back on",
                payload={**resource, "autoRenewEnabled": True},
                extra_headers={"If-Match": etag_of(resource)} if etag_of(resource) else None,
            )  # fmt: skip
        except PartnerCenterError as exc:  # the reactivation stands; staff see that auto-renew is still off
            answer["auto_renew_error"] = str(exc)
            return answer
        if turned_on.status == 200 and isinstance(turned_on.body, dict):
            answer["subscription"], answer["auto_renew_restored"] = turned_on.body, True
        else:
            answer["auto_renew_error"] = str(error_of(turned_on, "turning auto-renew back on"))
        return answer

    def _poll(self, accepted: HttpAnswer, *, correlation_id: str) -> dict[str, Any]:
        """Follow a 202's Location until the operation answers 200 (or give up: transient)."""
        location = accepted.header("Location")
        if not location:
            return {"http_status": 202, "subscription": accepted.body, "correlation_id": correlation_id}
        url = urllib.parse.urljoin(self.api_url + "/", location)
        for _ in range(max(1, self.poll_tries)):
            wait = retry_after_seconds(accepted.header("Retry-After"))
            self.sleep(self.poll_seconds if wait is None else min(wait, MAX_INLINE_RETRY_AFTER))
            accepted, _rid = self._call("GET", url, correlation_id=correlation_id, what="polling the change")
            if accepted.status == 202:
                continue
            if accepted.status == 200:
                return {
                    "http_status": 200, "polled": location, "subscription": accepted.body,
                    "correlation_id": correlation_id,
                }  # fmt: skip
            raise error_of(accepted, "polling the change")
        raise PartnerCenterTransientError(f"the change is still being processed at {location}")

    # --- collections -----------------------------------------------------------------------

    def _collection(self, url: str, *, what: str, correlation_id: str) -> Iterator[dict[str, Any]]:
        """Every item of a collection, page by page: `links.next` with its MS-ContinuationToken."""
        headers: dict[str, str] = {}
        while True:
            answer, _rid = self._call(
                "GET", url, correlation_id=correlation_id, what=what, extra_headers=headers or None
            )
            if answer.status != 200 or not isinstance(answer.body, dict):
                raise error_of(answer, what)
            yield from field(answer.body, "items") or []
            following = field(field(answer.body, "links"), "next")
            uri = str(field(following, "uri") or "")
            if not uri:
                return
            headers = {str(field(h, "key")): str(field(h, "value")) for h in field(following, "headers") or []}
            url = self.api_url + (uri if uri.startswith("/v1/") else "/v1" + uri)

    def customers_list(self, *, page_size: int = 100, correlation_id: str = "") -> Iterator[dict[str, Any]]:
        """The partner's customers ("Get a list of customers"), following continuation tokens."""
        url = f"{self.api_url}/v1/customers?size={int(page_size)}"
        return self._collection(url, what="listing customers", correlation_id=correlation_id or _new_id())

    def subscriptions_list(self, *, customer_tenant_id: str, correlation_id: str = "") -> Iterator[dict[str, Any]]:
        """A customer's subscriptions ("Get all of a customer's subscriptions")."""
        url = self._url("customers", customer_tenant_id, "subscriptions")
        return self._collection(url, what="listing subscriptions", correlation_id=correlation_id or _new_id())
