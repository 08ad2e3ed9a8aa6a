"""A local HTTPS server that answers like Stripe's API, for the real `stripe` library to talk to, and
signs webhook events as Stripe does. Each shape names its documentation page.

    with FakeStripe() as fake:
        fake.url, fake.ca_bundle                 # https://127.0.0.1:<port>, the test CA (trustme)
        fake.sessions["cs_test_..."]             # checkout sessions created, as Stripe holds them
        event = fake.session_completed("cs_test_...")    # the customer paid: the event Stripe sends
        body, header = fake.sign(event, secret)  # Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.body")
        fake.refund(payment_intent, amount)      # a refund made in the Dashboard: charge.refunded event

Requests are form-encoded (docs.stripe.com/api, "Request encoding"); answers are JSON objects with
`object`, `id` and, where the object has one, `status`; a request without `Authorization: Bearer sk_...`
is answered 401 with an `error` object (docs.stripe.com/api/errors).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.partner_center import _test_ca, _TLSServer


def _nested(form: dict[str, list[str]]) -> dict[str, Any]:
    """Stripe's form encoding back into objects: line_items[0][price_data][currency]=usd."""
    out: dict[str, Any] = {}
    for key, values in form.items():
        parts = key.replace("]", "").split("[")
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append({} if not last else None)
                if last:
                    node[index] = values[-1]
                else:
                    if not isinstance(node[index], (dict, list)):
                        node[index] = [] if nxt_is_index else {}
                    node = node[index]
            elif last:
                node[part] = values[-1]
            else:
                node = node.setdefault(part, [] if nxt_is_index else {})
    return out


class FakeStripe:
    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []
        self.fail_next_create = False
        self._lock = threading.Lock()
        _ca, leaf, self.ca_bundle = _test_ca()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        self._server = _TLSServer(self._handler_class(), context)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True)

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}"

    # --- shapes -----------------------------------------------------------------------------------

    def _session(self, params: dict[str, Any]) -> dict[str, Any]:
        """The Checkout Session object (docs.stripe.com/api/checkout/sessions/object), as
        "Create a Checkout Session" answers it: open, unpaid, no payment intent yet in payment mode."""
        item = params["line_items"][0]
        amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
        session_id = f"cs_test_{secrets.token_hex(12)}"
        return {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": int(time.time()),
            "currency": item["price_data"]["currency"],
            "customer_email": params.get("customer_email"),
            "expires_at": int(time.time()) + 86400,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "mode": params.get("mode", "payment"),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }

    def _event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """The Event object (docs.stripe.com/api/events/object)."""
        return {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-08-27.basil",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }

    def session_completed(self, session_id: str) -> dict[str, Any]:
        """The customer paid: the session is complete and paid, with its PaymentIntent
        (docs.stripe.com/api/payment_intents/object), and Stripe sends checkout.session.completed."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid", payment_intent=f"pi_{secrets.token_hex(12)}")
            return self._event("checkout.session.completed", dict(session))

    def session_expired(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="expired")
            return self._event("checkout.session.expired", dict(session))

    def refund(self, payment_intent: str, amount: int, *, total_refunded: int | None = None) -> dict[str, Any]:
        """A refund (docs.stripe.com/api/refunds/object) made in the Dashboard: Stripe sends
        charge.refunded with the Charge (docs.stripe.com/api/charges/object), whose `amount_refunded`
        is the total refunded so far."""
        session = next(s for s in self.sessions.values() if s["payment_intent"] == payment_intent)
        session["amount_refunded"] = total_refunded or session.get("amount_refunded", 0) + amount
        refund = {"id": f"re_{secrets.token_hex(12)}", "object": "refund", "amount": amount,
                  "currency": session["currency"], "payment_intent": payment_intent, "status": "succeeded"}  # fmt: skip
        charge = {
            "id": f"ch_{secrets.token_hex(12)}", "object": "charge", "amount": session["amount_total"],
            "amount_refunded": session["amount_refunded"], "currency": session["currency"],
            "payment_intent": payment_intent, "refunded": session["amount_refunded"] >= session["amount_total"],
            "status": "succeeded", "refunds": {"object": "list", "data": [refund], "has_more": False},
        }  # fmt: skip
        return self._event("charge.refunded", charge)

    def dispute(self, payment_intent: str, amount: int, reason: str = "fraudulent") -> dict[str, Any]:
        """charge.dispute.created with the Dispute (docs.stripe.com/api/disputes/object)."""
        session = next(s for s in self.sessions.values() if s["payment_intent"] == payment_intent)
        dispute = {"id": f"dp_{secrets.token_hex(12)}", "object": "dispute", "amount": amount,
                   "currency": session["currency"], "payment_intent": payment_intent,
                   "charge": f"ch_{secrets.token_hex(12)}", "reason": reason, "status": "needs_response"}  # fmt: skip
        return self._event("charge.dispute.created", dispute)

    @staticmethod
    def sign(event: dict[str, Any], secret: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
        """The body and `Stripe-Signature` header Stripe sends (docs.stripe.com/webhooks/signature):
        `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's secret>`."""
        body = json.dumps(event)
        t = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
        return body.encode(), f"t={t},v1={mac}"

    # --- the server -------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                params = _nested(form)
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(("POST", self.path, params, headers))
                if not headers.get("authorization", "").startswith("Bearer sk_"):
                    # docs.stripe.com/api/authentication: no or a wrong key is 401 with an error object.
                    self._answer(401, {"error": {"type": "invalid_request_error",
                                                 "message": "Invalid API Key provided."}})  # fmt: skip
                    return
                if self.path == "/v1/checkout/sessions":
                    if fake.fail_next_create:
                        fake.fail_next_create = False
                        # docs.stripe.com/api/errors: 4xx with type and message (here: a refused currency).
                        self._answer(400, {"error": {"type": "invalid_request_error", "param": "currency",
                                                     "message": "Invalid currency."}})  # fmt: skip
                        return
                    with fake._lock:
                        key = headers.get("idempotency-key", "")
                        known = next((s for s in fake.sessions.values() if s.get("_key") == key), None)
                        session = known or fake._session(params)
                        session["_key"] = key
                        fake.sessions[session["id"]] = session
                    self._answer(200, {k: v for k, v in session.items() if not k.startswith("_")})
                    return
                self._answer(404, {"error": {"type": "invalid_request_error",
                                             "message": f"Unrecognized request URL (POST: {self.path})."}})  # fmt: skip

        return Handler
