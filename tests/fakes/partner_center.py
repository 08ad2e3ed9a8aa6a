"""A local HTTPS server that answers like Partner Center and its sign-in authority, for the real
client (msal + httpx) to talk to. Shapes: tests/fakes/partner_center_shapes.py, each with its page.

    with FakePartnerCenter() as fake:
        fake.url, fake.ca_bundle     # https://127.0.0.1:<port>, a PEM of the test CA (trustme)
        fake.enqueue("PATCH", "/subscriptions/abc", 500)           # scripted, consumed in order
        fake.enqueue("PATCH", re.compile(r"/subscriptions/"), 429, headers={"Retry-After": "1"})
        fake.enqueue("PATCH", "/subscriptions/abc", 200, delay=5, applies=True)  # done, the answer too late
        fake.requests, fake.patches("abc"), fake.subscription("abc")["status"]

Default behaviour: `GET /{tenant}/v2.0/.well-known/openid-configuration` answers the tenant's OIDC
metadata and `POST /{tenant}/oauth2/v2.0/token` issues a token (msal reads the first, then calls the
second). `GET /v1/customers/{tid}/subscriptions/{sid}` answers the Subscription resource (created
"active" on first sight) with its ETag in `attributes.etag` and no ETag header; `PATCH` needs
`If-Match` with that ETag (a stale one: 400 with code 2055, "Etag is no longer valid", as the error
table lists it; none at all: 412 — the stand-in's own strictness, Microsoft documents no answer for
it), sets the status (or `autoRenewEnabled`, or `quantity`), bumps the ETag and answers 200 with the
resource (an Azure plan listed in `azure_plans_with_active_subscriptions` is not suspended: 900115). A
suspension turns auto-renew off (`suspension_turns_auto_renew_off`); `status: deleted` cancels within 7
days of `effectiveStartDate` (as of `today`), else 400 with code 900117. A scripted 202 to a PATCH
applies it too and answers with a `Location` whose GET answers 200 with the resource. `GET
/v1/customers` and `/v1/customers/{tid}/subscriptions` answer collections, `page_size` items a page,
with a continuation token. Requests without a bearer token get 401.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

from tests.fakes import partner_center_shapes as shapes

SUBSCRIPTION_PATH = re.compile(r"^/v1/customers/(?P<tid>[^/]+)/subscriptions/(?P<sid>[^/?]+)$")
SUBSCRIPTIONS_PATH = re.compile(r"^/v1/customers/(?P<tid>[^/]+)/subscriptions$")
TOKEN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$")
OIDC_PATH = re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$")


@cache
def _test_ca() -> tuple[trustme.CA, trustme.LeafCert, str]:
    """One test CA per test process, its certificate for 127.0.0.1, and the CA as a PEM file."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    path = tempfile.NamedTemporaryFile(prefix="partner-center-ca-", suffix=".pem", delete=False).name  # noqa: SIM115
    ca.cert_pem.write_to_path(path)
    return ca, leaf, path


class Headers(dict[str, str]):
    """Request headers by lower-cased name (HTTP does not care about case)."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    json: Any
    form: dict[str, str]
    at: float  # time.monotonic() when it arrived

    @property
    def subscription_id(self) -> str | None:
        match = SUBSCRIPTION_PATH.match(self.path)
        return urllib.parse.unquote(match["sid"]) if match else None


@dataclass
class Scripted:
    method: str
    path: str | re.Pattern[str]
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    applies: bool = False  # a PATCH is carried out as by default first (Microsoft did the work)

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return path.endswith(self.path)


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.context = context

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # The handshake happens in the request's thread, so a slow client never blocks the server.
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (time-out tests) or refused the certificate


class FakePartnerCenter:
    page_size = 2  # items per page of a collection: small, so paging is exercised
    # A suspended new-commerce subscription does not renew ("Subscription lifecycle states": still
    # suspended at the term's end, it expires); the stand-in shows that as autoRenewEnabled false.
    suspension_turns_auto_renew_off = True
    today: dt.date | None = None  # "Microsoft's" date for the cancellation window; None: the real one

    def __init__(self) -> None:
        # Azure plans (ids, lower case) whose customer still has active Azure subscriptions: Microsoft
        # refuses to suspend them with 900115 (the code in "Partner Center REST error codes").
        self.azure_plans_with_active_subscriptions: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.tokens_issued = 0
        self._scripted: list[Scripted] = []
        self._subscriptions: dict[str, dict[str, Any]] = {}  # sid (lower) -> resource
        self._owners: dict[str, str] = {}  # sid (lower) -> customer tenant id
        self._owned: dict[str, list[str]] = {}  # customer tenant id (lower) -> sids (lower), in order
        self._versions: dict[str, int] = {}
        self._customers: list[dict[str, Any]] = []
        self._operations: dict[str, str] = {}  # Location path -> subscription id
        self._lock = threading.Lock()
        _ca, leaf, self.ca_bundle = _test_ca()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        self._server = _TLSServer(self._handler_class(), context)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-partner-center", daemon=True)

    # --- life cycle ----------------------------------------------------------------------------

    def __enter__(self) -> FakePartnerCenter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting the test CA, for raw requests in tests."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    def settings(self) -> dict[str, Any]:
        """Settings pointing the http backend at this server (the CA handed over, never TLS off)."""
        return {
            "PARTNER_CENTER_BACKEND": "http", "PARTNER_CENTER_API_URL": self.url,
            "PARTNER_CENTER_AUTHORITY_URL": self.url, "PARTNER_CENTER_CA_BUNDLE": self.ca_bundle,
        }  # fmt: skip

    def worker_env(self) -> dict[str, str]:
        """Environment variables pointing a worker subprocess's http backend at this server."""
        return {
            **self.settings(),
            "PARTNER_CENTER_TIMEOUT_SECONDS": "2",
            "PARTNER_CENTER_CALL_BACKOFF_SECONDS": "0.05",
            "PARTNER_CENTER_POLL_SECONDS": "0.05",
        }

    def connect(self, partner: Any) -> Any:
        """Give `partner` a Partner Center account (the http backend needs one); returns it."""
        from subscriptions.services import partner_center_account_set

        return partner_center_account_set(
            partner=partner, actor=None, aad_tenant_id=uuid.uuid5(uuid.NAMESPACE_DNS, f"aad.{partner.slug}"),
            application_id=uuid.uuid5(uuid.NAMESPACE_DNS, f"app.{partner.slug}"), secret="fake-client-secret",
        )  # fmt: skip

    # --- scripting and inspection ----------------------------------------------------------------

    def enqueue(
        self,
        method: str,
        path: str | re.Pattern[str],
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        applies: bool = False,
    ) -> None:
        """Answer the next matching request (path suffix or regex) with this, before the default. With
        `applies`, a PATCH is first carried out as the default would (a time-out after Microsoft did
        the work: `delay` beyond the client's time-out)."""
        with self._lock:
            self._scripted.append(Scripted(method.upper(), path, status, body, dict(headers or {}), delay, applies))

    def subscription(self, subscription_id: str, *, status: str = "active", customer: str = "") -> dict[str, Any]:
        """The stand-in's copy of a subscription (created with `status` on first sight)."""
        with self._lock:
            return self._resource(subscription_id, status=status, customer=customer)

    def add_subscription(self, customer_tenant_id: str, subscription_id: str, **overrides: Any) -> dict[str, Any]:
        with self._lock:
            resource = self._resource(subscription_id, customer=customer_tenant_id)
            resource.update(overrides)
            return resource

    def add_customer(self, tenant_id: str, company_name: str, domain: str = "") -> dict[str, Any]:
        resource = shapes.customer(
            tenant_id=tenant_id, domain=domain or f"{tenant_id[:8]}.onmicrosoft.com", company_name=company_name
        )
        with self._lock:
            self._customers.append(resource)
        return resource

    def set_status(self, subscription_id: str, status: str) -> None:
        """Change a subscription at "Microsoft" (as someone in Partner Center would): a new ETag."""
        with self._lock:
            self._change(subscription_id, status=status)

    def patches(self, subscription_id: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == "PATCH" and (subscription_id is None or r.subscription_id == subscription_id)
        ]

    def calls(self, method: str | None = None) -> list[RecordedRequest]:
        """Requests to the API (not the sign-in authority), optionally of one method."""
        return [r for r in self.requests if r.path.startswith("/v1/") and (method is None or r.method == method)]

    def token_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if TOKEN_PATH.match(r.path)]

    # --- behaviour -------------------------------------------------------------------------------

    def _resource(self, subscription_id: str, *, status: str = "active", customer: str = "") -> dict[str, Any]:
        key = subscription_id.lower()
        if key not in self._subscriptions:
            owner = customer or str(uuid.uuid4())
            self._owners[key], self._versions[key] = owner, 1
            self._owned.setdefault(owner.lower(), []).append(key)
            self._subscriptions[key] = shapes.subscription(
                customer_tenant_id=owner, subscription_id=subscription_id, status=status, version=1
            )
        return self._subscriptions[key]

    def _change(self, subscription_id: str, **changes: Any) -> dict[str, Any]:
        resource = self._resource(subscription_id)
        key = subscription_id.lower()
        self._versions[key] += 1
        resource.update(changes)
        resource["attributes"] = {**resource["attributes"], "etag": shapes.etag(resource["id"], self._versions[key])}
        return resource

    def _page(self, items: list[dict[str, Any]], path: str, query: dict[str, str], headers: Headers) -> dict[str, Any]:
        start = int(headers.get("MS-ContinuationToken") or 0)
        size = min(int(query.get("size") or self.page_size), self.page_size)  # a server may send fewer than asked
        page, rest = items[start : start + size], items[start + size :]
        self_uri = path.removeprefix("/v1") + (f"?size={query['size']}" if "size" in query else "")
        next_uri = self_uri + ("&" if "?" in self_uri else "?") + "seekOperation=Next" if rest else ""
        return shapes.collection(page, self_uri=self_uri, next_uri=next_uri, token=str(start + size) if rest else "")

    def _answer(
        self, method: str, path: str, query: dict[str, str], headers: Headers, payload: Any, form: dict[str, str]
    ) -> tuple[int, Any, dict[str, str], float]:
        with self._lock:
            scripted = next((s for s in self._scripted if s.matches(method, path)), None)
            if scripted is not None:
                self._scripted.remove(scripted)
        if scripted is None and method == "GET" and (match := OIDC_PATH.match(path)):
            return 200, shapes.openid_configuration(self.url, match["tenant"]), {}, 0.0
        if scripted is None and method == "POST" and TOKEN_PATH.match(path):
            if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
                return 400, shapes.token_error("invalid_client", "AADSTS7000215: Invalid client secret."), {}, 0.0
            with self._lock:
                self.tokens_issued += 1
                n = self.tokens_issued
            return 200, shapes.token_answer(f"fake-token-{n}"), {}, 0.0
        is_api = path.startswith("/v1/")
        if is_api and not headers.get("Authorization", "").startswith("Bearer "):
            return 401, shapes.error("800001", "Partner Token missing in request context"), {}, 0.0
        match = SUBSCRIPTION_PATH.match(path)
        if scripted is not None:
            extra = dict(scripted.headers)
            if scripted.applies and method == "PATCH" and match:
                with self._lock:
                    resource = self._resource(urllib.parse.unquote(match["sid"]))
                    if headers.get("If-Match") == resource["attributes"]["etag"]:
                        self._patch(resource, payload or {})
            if scripted.status == 202 and method == "PATCH" and match:
                with self._lock:
                    resource = self._change(urllib.parse.unquote(match["sid"]), status=(payload or {}).get("status"))
                    location = extra.setdefault("Location", f"/v1/operations/{uuid.uuid4().hex}")
                    self._operations[urllib.parse.urlparse(location).path] = resource["id"]
            return scripted.status, scripted.body, extra, scripted.delay
        with self._lock:
            if method == "GET" and path in self._operations:
                return 200, json.loads(json.dumps(self._resource(self._operations[path]))), {}, 0.0
            if method == "GET" and path == "/v1/customers":
                return 200, self._page(list(self._customers), path, query, headers), {}, 0.0
            if method == "GET" and (listed := SUBSCRIPTIONS_PATH.match(path)):
                tid = urllib.parse.unquote(listed["tid"]).lower()
                items = [self._subscriptions[k] for k in self._owned.get(tid, [])]
                return 200, self._page(items, path, query, headers), {}, 0.0
            if match is None:
                return 404, shapes.error("1000", "Not found"), {}, 0.0
            resource = self._resource(urllib.parse.unquote(match["sid"]), customer=urllib.parse.unquote(match["tid"]))
            if method == "GET":
                return 200, json.loads(json.dumps(resource)), {}, 0.0
            if method == "PATCH":
                if "If-Match" not in headers:
                    return 412, shapes.error("412", "Precondition failed: If-Match is required"), {}, 0.0
                if headers["If-Match"] != resource["attributes"]["etag"]:
                    return 400, shapes.error("2055", "Etag is no longer valid"), {}, 0.0
                return self._patch(resource, payload or {})
        return 405, shapes.error("405", "Method not allowed"), {}, 0.0

    def _patch(self, resource: dict[str, Any], payload: dict[str, Any]) -> tuple[int, Any, dict[str, str], float]:
        """A PATCH of the resource (under the lock): its status, its auto-renew ("Update autorenew") or its
        quantity ("Change the quantity of licenses"); a suspended one only to reactivate it (800091)."""
        wanted = payload.get("status")
        if resource["status"] == "suspended" and wanted != "active":
            return 400, shapes.error("800091", "Can't update a subscription with suspended status"), {}, 0.0
        if wanted not in ("active", "suspended", "deleted"):
            return 400, shapes.error("800096", "Can't update the status for this subscription"), {}, 0.0
        if wanted == "suspended" and resource["id"].lower() in self.azure_plans_with_active_subscriptions:
            message = "The Azure plan has active Azure subscriptions and cannot be suspended"  # the stand-in's words
            return 400, shapes.error("900115", message), {}, 0.0
        changes: dict[str, Any] = {"status": wanted}
        if wanted == "deleted":
            started = dt.date.fromisoformat(resource["effectiveStartDate"][:10])
            if (self.today or dt.datetime.now(dt.UTC).date()) > started + dt.timedelta(days=6):
                message = "You have passed your 7-day cancellation window. We are unable to cancel your purchase"
                return 400, shapes.error("900117", message), {}, 0.0
        if isinstance(payload.get("autoRenewEnabled"), bool) and wanted == resource["status"]:
            changes["autoRenewEnabled"] = payload["autoRenewEnabled"]
        # "Change the quantity of licenses in a customer subscription": the full resource with quantity
        # changed; 200 with the updated resource (shapes.subscription).
        if isinstance(payload.get("quantity"), int) and wanted == resource["status"]:
            changes["quantity"] = payload["quantity"]
        if wanted == "suspended" and self.suspension_turns_auto_renew_off:
            changes["autoRenewEnabled"] = False
        resource = self._change(resource["id"], **changes)
        return 200, json.loads(json.dumps(resource)), {}, 0.0

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                # Headers and body go out as separate writes: without this, Nagle's algorithm and the
                # client's delayed ACK hold every answer back ~40 ms (a loopback artefact, not Microsoft).
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.request.do_handshake()
                super().setup()

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = Headers({k.lower(): v for k, v in self.headers.items()})
                payload: Any = None
                form: dict[str, str] = {}
                if raw and "json" in headers.get("Content-Type", ""):
                    payload = json.loads(raw)
                elif raw:
                    form = dict(urllib.parse.parse_qsl(raw.decode()))
                parsed = urllib.parse.urlparse(self.path)
                path, query = parsed.path, dict(urllib.parse.parse_qsl(parsed.query))
                with fake._lock:
                    fake.requests.append(
                        RecordedRequest(self.command, path, query, headers, payload, form, time.monotonic())
                    )
                status, body, extra, delay = fake._answer(self.command, path, query, headers, payload, form)
                if delay:
                    time.sleep(delay)
                data = b"" if body is None else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client gave up waiting (a time-out test)

            do_GET = do_PATCH = do_POST = _handle

        return Handler
