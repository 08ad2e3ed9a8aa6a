"""A local HTTP server that answers like Partner Center (DESIGN.md §7), for the real client to talk to.

    with FakePartnerCenter() as fake:
        fake.url                     # http://127.0.0.1:<port>, both the API and the sign-in authority
        fake.enqueue("PATCH", "/subscriptions/abc", 500)           # scripted, consumed in order
        fake.enqueue("PATCH", re.compile(r"/subscriptions/"), 429, headers={"Retry-After": "1"})
        fake.requests, fake.patches("abc"), fake.subscription("abc")["status"]

Default behaviour: `POST /{tenant}/oauth2/token` issues a token; `GET
/v1/customers/{tid}/subscriptions/{sid}` answers the resource (created "active" on first sight) with
its ETag; `PATCH` checks `If-Match` (412 on a stale ETag), sets the status, takes a new ETag and
answers 200. A scripted 202 to a PATCH applies it too and answers with a `Location` whose GET
answers 200 with the resource (after any scripted 202s on that Location). Requests without a
bearer token get 401.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SUBSCRIPTION_PATH = re.compile(r"^/v1/customers/(?P<tid>[^/]+)/subscriptions/(?P<sid>[^/?]+)$")
TOKEN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/token$")


class Headers(dict[str, str]):
    """Request headers by lower-cased name (urllib sends "Ms-requestid"; HTTP does not care)."""

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

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return path.endswith(self.path)


class FakePartnerCenter:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.tokens_issued = 0
        self._scripted: list[Scripted] = []
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._operations: dict[str, str] = {}  # Location path -> subscription id
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
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
        return f"http://{host}:{port}"

    def worker_env(self) -> dict[str, str]:
        """Environment variables pointing a worker subprocess's http backend at this server."""
        return {
            "PARTNER_CENTER_BACKEND": "http",
            "PARTNER_CENTER_API_URL": self.url,
            "PARTNER_CENTER_AUTHORITY_URL": self.url,
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
    ) -> None:
        """Answer the next matching request (path suffix or regex) with this, before the default."""
        with self._lock:
            self._scripted.append(Scripted(method.upper(), path, status, body, dict(headers or {}), delay))

    def subscription(self, subscription_id: str, *, status: str = "active") -> dict[str, Any]:
        """The fake's copy of a subscription (created with `status` on first sight)."""
        with self._lock:
            return self._resource(subscription_id, status=status)

    def set_status(self, subscription_id: str, status: str) -> None:
        """Change a subscription at "Microsoft" (as someone in Partner Center would): a new ETag."""
        with self._lock:
            resource = self._resource(subscription_id)
            resource["status"], resource["etag"] = status, uuid.uuid4().hex

    def patches(self, subscription_id: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == "PATCH" and (subscription_id is None or r.subscription_id == subscription_id)
        ]

    def calls(self, method: str | None = None) -> list[RecordedRequest]:
        """Requests to the API (not the token endpoint), optionally of one method."""
        return [r for r in self.requests if r.path.startswith("/v1/") and (method is None or r.method == method)]

    # --- behaviour -------------------------------------------------------------------------------

    def _resource(self, subscription_id: str, *, status: str = "active") -> dict[str, Any]:
        key = subscription_id.lower()
        if key not in self._subscriptions:
            self._subscriptions[key] = {
                "id": subscription_id, "offerId": "CFQ7TTC0LH18:0001", "offerName": "Microsoft 365 E3",
                "quantity": 10, "status": status, "autoRenewEnabled": True, "billingCycle": "monthly",
                "etag": uuid.uuid4().hex, "attributes": {"objectType": "Subscription"},
            }  # fmt: skip
        return self._subscriptions[key]

    def _answer(self, method: str, path: str, headers: Headers, payload: Any) -> tuple[int, Any, dict[str, str], float]:
        with self._lock:
            scripted = next((s for s in self._scripted if s.matches(method, path)), None)
            if scripted is not None:
                self._scripted.remove(scripted)
        if TOKEN_PATH.match(path) and method == "POST" and scripted is None:
            with self._lock:
                self.tokens_issued += 1
                n = self.tokens_issued
            return 200, {"token_type": "Bearer", "expires_in": "3600", "access_token": f"fake-token-{n}"}, {}, 0.0
        if not TOKEN_PATH.match(path) and not headers.get("Authorization", "").startswith("Bearer "):
            return 401, {"code": 401, "description": "Unauthorized"}, {}, 0.0
        match = SUBSCRIPTION_PATH.match(path)
        if scripted is not None:
            extra = dict(scripted.headers)
            if scripted.status == 202 and method == "PATCH" and match:
                with self._lock:
                    resource = self._resource(urllib.parse.unquote(match["sid"]))
                    resource["status"], resource["etag"] = payload.get("status"), uuid.uuid4().hex
                    location = extra.setdefault("Location", f"/v1/operations/{uuid.uuid4().hex}")
                    self._operations[urllib.parse.urlparse(location).path] = resource["id"]
            return scripted.status, scripted.body, extra, scripted.delay
        with self._lock:
            if method == "GET" and path in self._operations:
                resource = dict(self._resource(self._operations[path]))
                return 200, resource, {"ETag": resource["etag"]}, 0.0
            if match is None:
                return 404, {"code": 20003, "description": "Resource not found"}, {}, 0.0
            resource = self._resource(urllib.parse.unquote(match["sid"]))
            if method == "GET":
                return 200, dict(resource), {"ETag": resource["etag"]}, 0.0
            if method == "PATCH":
                if headers.get("If-Match", "") != resource["etag"]:
                    return 412, {"code": 412, "description": "The resource has changed (ETag mismatch)."}, {}, 0.0
                wanted = (payload or {}).get("status")
                if wanted not in ("active", "suspended"):
                    return 400, {"code": 800091, "description": f"Status {wanted!r} is not allowed."}, {}, 0.0
                resource["status"], resource["etag"] = wanted, uuid.uuid4().hex
                return 200, dict(resource), {"ETag": resource["etag"]}, 0.0
        return 405, {"code": 405, "description": "Method not allowed"}, {}, 0.0

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

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
                path = urllib.parse.urlparse(self.path).path
                with fake._lock:
                    fake.requests.append(RecordedRequest(self.command, path, headers, payload, form, time.monotonic()))
                status, body, extra, delay = fake._answer(self.command, path, headers, payload)
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
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a time-out test)

            do_GET = do_PATCH = do_POST = _handle

        return Handler
