"""A local HTTPS server that answers like Storecove's API v2 (https://www.storecove.com/docs/, and the
OpenAPI document it publishes, "Storecove API" 2.0.1), for the portal's real client to talk to.

    with FakeStorecove() as fake:
        fake.url, fake.ca_bundle          # https://127.0.0.1:<port>/api/v2, the test CA (trustme)
        fake.keys.add("key")              # API keys it accepts (Authorization: Bearer <key>)
        fake.receivers.add(("BE:EN", "0123456749"))   # participants discovery finds on Peppol
        fake.refuse[("BE:EN", "0999999999")] = [...]  # a 422 for documents routed there
        fake.unavailable = 2              # the next two submissions answer 503
        fake.slow_after_accept = 1        # the next submission is taken, then answered too late
        fake.submissions                  # documents taken: {guid: body}
        fake.webhook(guid, "succeeded")   # the body of Storecove's document_submission webhook (a dict)
        fake.queue(body)                  # a webhook waiting in pull mode (GET /webhook_instances/)
        fake.push(url, body)              # a webhook pushed to the portal's address, as Storecove POSTs it
        fake.deliver(guid)                # the submission delivered: its evidence is served from now on

Webhooks: a WebhookInstance is `{"guid", "body"}` with `body` "the webhook body that would have been
pushed if this were a push-mode webhook" (OpenAPI, WebhookInstance), so `push` POSTs exactly the text that
`queue` stores as `body`. The event carries the legal entity's `tenant_id` (OpenAPI, LegalEntity.tenant_id:
"This property will included in webhook events") and the submission's `guid`.

Evidence: GET /document_submissions/{guid}/evidence/{evidence_type} (OpenAPI operation
show_document_submission_evidence, `evidence_type` "sending" or "clearing") answers a
DocumentSubmissionEvidence - `guid`, `sender`, `receiver`, `network`, `documents` (each `document` a URL,
`expires_at`, `mime_type`) and `evidence` (for peppol: `receiving_accesspoint`, `message_id`,
`transmission_id`, `timestamp`, `xml`) - once the document was delivered, and 404 before.

Shapes, each from the OpenAPI document: LegalEntity (POST /legal_entities: `id` and the fields sent,
`peppol_identifiers`), PeppolIdentifier (`superscheme`, `scheme`, `identifier`), DiscoveredParticipant
(`code` OK | NOK, `email`), DocumentSubmissionResult (`guid`), WebhookInstance (`guid`, `body` a string;
204 when the queue is empty), and every 422 an array of ErrorModel (`source`, `details`). A second
document with an idempotencyGuid already used is a 422 (DocumentSubmission.idempotencyGuid: "only the
first one will be processed and any subsequent ones will trigger an HTTP 422 Unprocessable Entity").
A wrong or missing key is 401 (every operation's "401 Unauthorized").
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.partner_center import _test_ca, _TLSServer

BASE = "/api/v2"


class FakeStorecove:
    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.receivers: set[tuple[str, str]] = set()
        self.refuse: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.legal_entities: dict[int, dict[str, Any]] = {}
        self.submissions: dict[str, dict[str, Any]] = {}
        self._by_idempotency: dict[str, str] = {}
        self.instances: deque[dict[str, str]] = deque()
        self.deleted_instances: list[str] = []
        self.delivered: set[str] = set()
        self.requests: list[tuple[str, str, Any]] = []
        # (method, path under /api/v2) -> (status, body): a documented example answered verbatim.
        self.scripted: dict[tuple[str, str], tuple[int, Any]] = {}
        self.unavailable = 0
        self.slow_after_accept = 0
        self.slow_seconds = 1.5
        self._next_id = 100
        self._lock = threading.Lock()
        _ca, leaf, self.ca_bundle = _test_ca()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        self._server = _TLSServer(self._handler_class(), context)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-storecove", daemon=True)

    def __enter__(self) -> FakeStorecove:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}{BASE}"

    # --- webhooks ------------------------------------------------------------------------------------

    def webhook(self, guid: str, event: str, details: list[Any] | None = None) -> dict[str, Any]:
        """The document_submission event for submission `guid`, with its legal entity's tenant_id."""
        submitted = self.submissions.get(guid) or {}
        entity = self.legal_entities.get(submitted.get("legalEntityId"), {})  # type: ignore[call-overload]
        body: dict[str, Any] = {"tenant_id": entity.get("tenant_id", ""), "guid": guid,
                                "event_type": "document_submission", "event": event}  # fmt: skip
        if details is not None:
            body["details"] = details
        if event == "succeeded":
            self.deliver(guid)
        return body

    def deliver(self, guid: str) -> None:
        self.delivered.add(guid)

    def push(self, url: str, body: dict[str, Any]) -> int:
        """POST the event to a webhook address as Storecove pushes it: the JSON text, no credentials."""
        import httpx

        response = httpx.post(url, content=json.dumps(body), headers={"Content-Type": "application/json"})
        return response.status_code

    def evidence(self, guid: str) -> dict[str, Any]:
        """The DocumentSubmissionEvidence of a delivered submission (OpenAPI field names)."""
        submitted = self.submissions[guid]
        entity = self.legal_entities.get(submitted.get("legalEntityId"), {})  # type: ignore[call-overload]
        sender = next(iter(entity.get("peppol_identifiers", [])), {})
        target = submitted.get("routing", {}).get("eIdentifiers", [{}])[0]
        host, port = self._server.server_address[:2]
        return {
            "guid": guid,
            "sender": f"{sender.get('scheme', '')}:{sender.get('identifier', '')}",
            "receiver": f"{target.get('scheme', '')}:{target.get('id', '')}",
            "network": "peppol",
            "documents": [{"document": f"https://{host!s}:{port}/evidence-documents/{guid}.xml",
                           "expires_at": "2026-12-31 23:59:59", "mime_type": "application/xml"}],
            "evidence": {
                "receiving_accesspoint": "CN=PBE000000, O=Receiving Access Point, C=BE",
                "message_id": f"{guid}@storecove.com", "transmission_id": guid,
                "timestamp": "2026-12-06T12:00:00Z",
                "xml": "<SignalMessage><Receipt><NonRepudiationInformation/></Receipt></SignalMessage>",
            },
        }  # fmt: skip

    def queue(self, body: dict[str, Any]) -> str:
        """A webhook waiting in pull mode: the WebhookInstance's body is the pushed body as a string."""
        guid = str(uuid.uuid4())
        self.instances.append({"guid": guid, "body": json.dumps(body)})
        return guid

    # --- answers -------------------------------------------------------------------------------------

    def _legal_entity(self, body: dict[str, Any]) -> tuple[int, Any]:
        missing = [f for f in ("party_name", "line1", "city", "zip", "country") if not body.get(f)]
        if missing:
            return 422, [{"source": f, "details": "can't be blank"} for f in missing]
        with self._lock:
            self._next_id += 1
            entity = {"id": self._next_id, **body, "peppol_identifiers": []}
            self.legal_entities[entity["id"]] = entity
        return 200, entity

    def _peppol_identifier(self, entity_id: int, body: dict[str, Any]) -> tuple[int, Any]:
        entity = self.legal_entities.get(entity_id)
        if entity is None:
            return 404, None
        if body.get("superscheme") != "iso6523-actorid-upis":
            return 422, [{"source": "superscheme", "details": "must be iso6523-actorid-upis"}]
        identifier = {k: body[k] for k in ("superscheme", "scheme", "identifier")}
        entity["peppol_identifiers"].append(identifier)
        return 200, identifier

    def _submission(self, body: dict[str, Any]) -> tuple[int, Any, float]:
        if self.unavailable:
            self.unavailable -= 1
            return 503, {"message": "Service Unavailable"}, 0.0
        if body.get("legalEntityId") not in self.legal_entities:
            return 422, [{"source": "legalEntityId", "details": "not found"}], 0.0
        key = str(body.get("idempotencyGuid") or "")
        if key and len(key) != 36:
            return 422, [{"source": "idempotencyGuid", "details": "must be 36 characters"}], 0.0
        with self._lock:
            if key and key in self._by_idempotency:
                return 422, [{"source": "idempotencyGuid", "details": "has already been used"}], 0.0
            target = body.get("routing", {}).get("eIdentifiers", [{}])[0]
            refused = self.refuse.get((target.get("scheme"), target.get("id")))
            if refused:
                return 422, refused, 0.0
            guid = str(uuid.uuid4())
            self.submissions[guid] = body
            if key:
                self._by_idempotency[key] = guid
            delay = 0.0
            if self.slow_after_accept:
                self.slow_after_accept -= 1
                delay = self.slow_seconds
        return 200, {"guid": guid}, delay

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None) -> None:
                raw = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if raw:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _start(self, method: str) -> tuple[str, Any] | None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = self.path[len(BASE) :] if self.path.startswith(BASE) else self.path
                fake.requests.append((method, path, body))
                key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if key not in fake.keys:
                    self._answer(401)
                    return None
                if (method, path) in fake.scripted:
                    self._answer(*fake.scripted[(method, path)])
                    return None
                return path, body

            def do_GET(self) -> None:
                started = self._start("GET")
                if started is None:
                    return
                path, _body = started
                if path == "/webhook_instances/":
                    if fake.instances:
                        self._answer(200, fake.instances[0])
                    else:
                        self._answer(204)
                    return
                parts = path.split("/")
                if len(parts) == 5 and parts[1] == "document_submissions" and parts[3] == "evidence":
                    guid, kind = parts[2], parts[4]
                    if kind in ("sending", "clearing") and guid in fake.submissions and guid in fake.delivered:
                        self._answer(200, fake.evidence(guid))
                    else:
                        self._answer(404)
                    return
                self._answer(404)

            def do_DELETE(self) -> None:
                started = self._start("DELETE")
                if started is None:
                    return
                path, _body = started
                if path.startswith("/webhook_instances/"):
                    guid = path.rsplit("/", 1)[-1]
                    found = next((i for i in fake.instances if i["guid"] == guid), None)
                    if found is None:
                        self._answer(404)
                        return
                    fake.instances.remove(found)
                    fake.deleted_instances.append(guid)
                    self._answer(204)
                    return
                self._answer(404)

            def do_POST(self) -> None:
                started = self._start("POST")
                if started is None:
                    return
                path, body = started
                body = body or {}
                if path == "/legal_entities":
                    self._answer(*fake._legal_entity(body))
                elif path.startswith("/legal_entities/") and path.endswith("/peppol_identifiers"):
                    self._answer(*fake._peppol_identifier(int(path.split("/")[2]), body))
                elif path == "/discovery/receives":
                    found = (body.get("scheme"), body.get("identifier")) in fake.receivers
                    self._answer(200, {"code": "OK" if found else "NOK", "email": False})
                elif path == "/document_submissions":
                    status, answer, delay = fake._submission(body)
                    if delay:
                        time.sleep(delay)  # taken, but the answer comes after the client gave up
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                        self._answer(status, answer)
                else:
                    self._answer(404)

        return Handler
