"""A local HTTPS server that answers like Stripe's API, for the real `stripe` library to talk to, and
signs webhook events as Stripe does. Each shape names its documentation page.

    with FakeStripe() as fake:
        fake.url, fake.ca_bundle                 # https://127.0.0.1:<port>, the test CA (trustme)
        fake.sessions["cs_test_..."]             # checkout sessions created, as Stripe holds them
        event = fake.session_completed("cs_test_...")    # the customer paid: the event Stripe sends
        body, header = fake.sign(event, secret)  # Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.body")
        fake.refund(payment_intent, amount)      # a refund made in the Dashboard: charge.refunded event
        event = fake.setup_completed("cs_test_...", card="4242")  # a card saved on a setup-mode session
        fake.intents["pi_..."]                   # PaymentIntents created (off-session charges)
        event = fake.intent_succeeded("pi_...")  # payment_intent.succeeded, as Stripe sends it

Saved cards follow Stripe's test cards (docs.stripe.com/testing): 4242 charges succeed, 0341 attaches
but its charges are declined (402 card_declined, generic_decline), 9995 is declined for insufficient
funds, 3184 needs authentication on every charge, so an off-session charge fails (402
authentication_required).

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
        self.customers: dict[str, dict[str, Any]] = {}
        self.setup_intents: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self._answers_by_key: dict[str, tuple[int, dict[str, Any]]] = {}
        self._refunded: dict[str, int] = {}  # payment intent -> amount refunded so far
        # (method, path) -> (status, body): a documented example answered verbatim (contract tests).
        self.scripted: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
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
        session_id = f"cs_test_{secrets.token_hex(12)}"
        if params.get("mode") == "setup":
            return self._setup_session(session_id, params)
        item = params["line_items"][0]
        amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
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

    def _setup_session(self, session_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """A Checkout Session in setup mode (docs.stripe.com/api/checkout/sessions/create, mode=setup;
        docs.stripe.com/payments/save-and-reuse?platform=checkout): no amount, the currency and customer
        given, payment_status "no_payment_required", and no SetupIntent until the customer completes it."""
        return {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": None,
            "amount_total": None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": int(time.time()),
            "currency": params.get("currency"),
            "customer": params.get("customer"),
            "customer_email": None,
            "expires_at": int(time.time()) + 86400,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "mode": "setup",
            "payment_intent": None,
            "payment_status": "no_payment_required",
            "setup_intent": None,
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }

    def _customer(self, params: dict[str, Any]) -> dict[str, Any]:
        """The Customer object (docs.stripe.com/api/customers/object), as "Create a customer" answers."""
        customer_id = f"cus_{secrets.token_hex(7)}"
        return {
            "id": customer_id, "object": "customer", "address": None, "balance": 0, "created": int(time.time()),
            "currency": None, "default_source": None, "delinquent": False, "description": None, "discount": None,
            "email": params.get("email"), "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                                 "rendering_options": None},
            "livemode": False, "metadata": params.get("metadata", {}), "name": params.get("name"), "phone": None,
            "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None,
        }  # fmt: skip

    @staticmethod
    def _payment_method(card: str, customer: str | None) -> dict[str, Any]:
        """The PaymentMethod object (docs.stripe.com/api/payment_methods/object) of a test card."""
        return {
            "id": f"pm_{secrets.token_hex(12)}", "object": "payment_method", "allow_redisplay": "always",
            "billing_details": {"address": {"city": None, "country": None, "line1": None, "line2": None,
                                            "postal_code": None, "state": None},
                                "email": None, "name": None, "phone": None},
            "card": {"brand": "visa", "checks": {"address_line1_check": None, "address_postal_code_check": None,
                                                 "cvc_check": "pass"},
                     "country": "US", "display_brand": "visa", "exp_month": 8, "exp_year": 2030,
                     "fingerprint": secrets.token_hex(8), "funding": "credit", "generated_from": None,
                     "last4": card, "networks": {"available": ["visa"], "preferred": None},
                     "three_d_secure_usage": {"supported": True}, "wallet": None},
            "created": int(time.time()), "customer": customer, "livemode": False, "metadata": {}, "type": "card",
        }  # fmt: skip

    def setup_completed(self, session_id: str, *, card: str = "4242") -> dict[str, Any]:
        """The customer saved a card on the setup page: the SetupIntent (docs.stripe.com/api/setup_intents/object)
        succeeded with a PaymentMethod attached to the session's customer, and Stripe sends
        checkout.session.completed with the session naming it."""
        with self._lock:
            session = self.sessions[session_id]
            method = self._payment_method(card, session["customer"])
            self.payment_methods[method["id"]] = method
            intent_id = f"seti_{secrets.token_hex(12)}"
            self.setup_intents[intent_id] = {
                "id": intent_id, "object": "setup_intent", "application": None, "automatic_payment_methods": None,
                "cancellation_reason": None, "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
                "created": int(time.time()), "customer": session["customer"], "description": None,
                "flow_directions": None, "last_setup_error": None, "latest_attempt": f"setatt_{secrets.token_hex(8)}",
                "livemode": False, "mandate": None, "metadata": session["metadata"], "next_action": None,
                "on_behalf_of": None, "payment_method": method["id"],
                "payment_method_options": {"card": {"mandate_options": None, "network": None,
                                                    "request_three_d_secure": "automatic"}},
                "payment_method_types": ["card"], "single_use_mandate": None, "status": "succeeded",
                "usage": "off_session",
            }  # fmt: skip
            session.update(status="complete", setup_intent=intent_id)
            return self._event("checkout.session.completed", dict(session))

    def _intent(self, params: dict[str, Any], status: str) -> dict[str, Any]:
        """The PaymentIntent object (docs.stripe.com/api/payment_intents/object) after "Create a
        PaymentIntent" with confirm=true and off_session=true."""
        amount = int(params["amount"])
        intent_id = f"pi_{secrets.token_hex(12)}"
        return {
            "id": intent_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_received": amount if status == "succeeded" else 0, "application": None,
            "capture_method": "automatic", "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "confirmation_method": "automatic", "created": int(time.time()), "currency": params["currency"],
            "customer": params.get("customer"), "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": f"ch_{secrets.token_hex(12)}" if status == "succeeded" else None,
            "livemode": False, "metadata": params.get("metadata", {}), "next_action": None,
            "payment_method": params.get("payment_method"), "payment_method_types": ["card"],
            "setup_future_usage": None, "status": status,
        }  # fmt: skip

    def _charge(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """An off-session charge. A refused card is HTTP 402 with an error object of type card_error
        (docs.stripe.com/api/errors; docs.stripe.com/payments/save-and-reuse "Charge the saved payment
        method later": card_declined, or authentication_required for a card that needs 3-D Secure),
        carrying the PaymentIntent left in requires_payment_method with its last_payment_error."""
        method = self.payment_methods.get(params.get("payment_method", ""))
        if method is None or method["customer"] != params.get("customer"):
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "param": "payment_method",
                                   "message": f"No such PaymentMethod: '{params.get('payment_method')}'"}}  # fmt: skip
        refusal = {"0341": ("card_declined", "generic_decline", "Your card was declined."),
                   # docs.stripe.com/testing "Declined payments": 4000 0000 0000 9995, insufficient_funds
                   "9995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
                   "3184": ("authentication_required", "authentication_required",
                            "Your card was declined. This transaction requires authentication.")
                   }.get(method["card"]["last4"])  # fmt: skip
        if refusal is None:
            intent = self._intent(params, "succeeded")
            self.intents[intent["id"]] = intent
            return 200, intent
        code, decline_code, message = refusal
        error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message,
                 "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
                 "charge": f"ch_{secrets.token_hex(12)}", "payment_method": method}  # fmt: skip
        intent = self._intent(params, "requires_payment_method")
        intent["last_payment_error"] = dict(error)
        self.intents[intent["id"]] = intent
        return 402, {"error": {**error, "payment_intent": intent}}

    def intent_succeeded(self, intent_id: str) -> dict[str, Any]:
        """payment_intent.succeeded with the PaymentIntent (docs.stripe.com/api/events/types)."""
        return self._event("payment_intent.succeeded", dict(self.intents[intent_id]))

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

    def _paid(self, payment_intent: str) -> tuple[int, str]:
        """The amount and currency paid through a payment intent: a checkout's, or an off-session charge's."""
        session = next((s for s in self.sessions.values() if s.get("payment_intent") == payment_intent), None)
        if session is not None:
            return session["amount_total"], session["currency"]
        intent = self.intents[payment_intent]
        return intent["amount"], intent["currency"]

    def refund(self, payment_intent: str, amount: int, *, total_refunded: int | None = None) -> dict[str, Any]:
        """A refund (docs.stripe.com/api/refunds/object) made in the Dashboard: Stripe sends
        charge.refunded with the Charge (docs.stripe.com/api/charges/object), whose `amount_refunded`
        is the total refunded so far."""
        paid, currency = self._paid(payment_intent)
        self._refunded[payment_intent] = total_refunded or self._refunded.get(payment_intent, 0) + amount
        refunded = self._refunded[payment_intent]
        refund = {"id": f"re_{secrets.token_hex(12)}", "object": "refund", "amount": amount,
                  "currency": currency, "payment_intent": payment_intent, "status": "succeeded"}  # fmt: skip
        charge = {
            "id": f"ch_{secrets.token_hex(12)}", "object": "charge", "amount": paid,
            "amount_refunded": refunded, "currency": currency,
            "payment_intent": payment_intent, "refunded": refunded >= paid,
            "status": "succeeded", "refunds": {"object": "list", "data": [refund], "has_more": False},
        }  # fmt: skip
        return self._event("charge.refunded", charge)

    def dispute(self, payment_intent: str, amount: int, reason: str = "fraudulent") -> dict[str, Any]:
        """charge.dispute.created with the Dispute (docs.stripe.com/api/disputes/object)."""
        _paid, currency = self._paid(payment_intent)
        dispute = {"id": f"dp_{secrets.token_hex(12)}", "object": "dispute", "amount": amount,
                   "currency": currency, "payment_intent": payment_intent,
                   "charge": f"ch_{secrets.token_hex(12)}", "reason": reason, "status": "needs_response"}  # fmt: skip
        return self._event("charge.dispute.created", dispute)

    def dispute_won(self, dispute: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The partner won: Stripe sends charge.dispute.closed with the Dispute's status "won" and
        charge.dispute.funds_reinstated ("funds are reinstated to your account after a dispute is
        closed", docs.stripe.com/api/events/types), each with the Dispute (docs.stripe.com/api/disputes/object)."""
        won = {**dispute, "status": "won"}
        return self._event("charge.dispute.closed", won), self._event("charge.dispute.funds_reinstated", dict(won))

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

            def _authorised(self, headers: dict[str, str]) -> bool:
                if headers.get("authorization", "").startswith("Bearer sk_"):
                    return True
                # docs.stripe.com/api/authentication: no or a wrong key is 401 with an error object.
                self._answer(401, {"error": {"type": "invalid_request_error",
                                             "message": "Invalid API Key provided."}})  # fmt: skip
                return False

            def _missing(self, method: str) -> None:
                self._answer(404, {"error": {"type": "invalid_request_error",
                                             "message": f"Unrecognized request URL ({method}: {self.path})."}})  # fmt: skip

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                params = _nested(urllib.parse.parse_qs(url.query, keep_blank_values=True))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(("GET", url.path, params, headers))
                if not self._authorised(headers):
                    return
                if ("GET", url.path) in fake.scripted:
                    self._answer(*fake.scripted[("GET", url.path)])
                    return
                if url.path.startswith("/v1/setup_intents/"):
                    # docs.stripe.com/api/setup_intents/retrieve; expand[]=payment_method puts the object
                    # in place of its id (docs.stripe.com/api/expanding_objects).
                    intent = fake.setup_intents.get(url.path.rsplit("/", 1)[-1])
                    if intent is None:
                        self._answer(404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                                     "message": "No such setupintent"}})  # fmt: skip
                        return
                    answer = dict(intent)
                    if "payment_method" in (params.get("expand") or []):
                        answer["payment_method"] = fake.payment_methods[intent["payment_method"]]
                    self._answer(200, answer)
                    return
                self._missing("GET")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                params = _nested(form)
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(("POST", self.path, params, headers))
                if not self._authorised(headers):
                    return
                if ("POST", self.path) in fake.scripted:
                    self._answer(*fake.scripted[("POST", self.path)])
                    return
                key = headers.get("idempotency-key", "")
                if key and key in fake._answers_by_key and self.path != "/v1/checkout/sessions":
                    # docs.stripe.com/api/idempotent_requests: the same key answers the first result,
                    # status code and errors included, with Idempotent-Replayed: true.
                    self._answer(*fake._answers_by_key[key])
                    return
                if self.path == "/v1/customers":
                    customer = fake._customer(params)
                    fake.customers[customer["id"]] = customer
                    fake._answers_by_key[key] = (200, customer)
                    self._answer(200, customer)
                    return
                if self.path == "/v1/payment_intents":
                    with fake._lock:
                        status, body = fake._charge(params)
                        if key:
                            fake._answers_by_key[key] = (status, body)
                    self._answer(status, body)
                    return
                if self.path.startswith("/v1/payment_methods/") and self.path.endswith("/detach"):
                    # docs.stripe.com/api/payment_methods/detach: the PaymentMethod, its customer null.
                    method = fake.payment_methods.get(self.path.split("/")[3])
                    if method is None or method["customer"] is None:
                        self._answer(400, {"error": {"type": "invalid_request_error",
                                                     "message": "The payment method you provided is not attached "
                                                                "to a customer so detachment is impossible."}})  # fmt: skip
                        return
                    method["customer"] = None
                    self._answer(200, method)
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
                self._missing("POST")

        return Handler
