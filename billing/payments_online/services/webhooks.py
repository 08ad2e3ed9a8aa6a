"""Webhooks are the truth: only an event signed with the partner's endpoint secret records money.

Each event is verified with the Stripe library (`stripe.Webhook.construct_event`: the
`Stripe-Signature` header's HMAC-SHA256 of "<t>.<payload>", within Stripe's five-minute tolerance),
then stored once under a unique (partner, event id) in the same transaction as what it records, so a
replay, a retry or two deliveries at once record nothing twice. Events handled
(docs.stripe.com/api/events/types):

- `checkout.session.completed` / `checkout.session.async_payment_succeeded` with `payment_status`
  "paid": the payment is recorded through `payment_record` (method card, the payment intent as
  reference) on the invoices the checkout was for; what they no longer owe is the customer's credit.
  A customer held suspended by collections is rechecked at once, so the run asks for reactivation
  when the overdue total is now under the policy's minimum.
- `checkout.session.expired`: the checkout is closed.
- `charge.refunded`: the newly refunded part (`amount_refunded` is cumulative) is recorded through
  `refund_record`, from the payment's credit first, then off its invoices, which owe it again.
- `charge.dispute.created`: the checkout is flagged disputed for staff and the disputed amount is taken
  back the same way (Stripe withdraws it at once), so the balance reopens.
  Refunds and disputes of autopay charges (found by their payment intent) are taken back the same way.
- `charge.dispute.funds_reinstated`: the partner won the dispute and Stripe paid the money back: what the
  dispute took is recorded again as a card payment (the dispute's id as reference, once), on the
  invoices it reopened while they are open, the rest as the customer's credit; the checkout is paid
  again. `charge.dispute.closed` is audited with its outcome (won, lost); it moves no money.
- `checkout.session.completed` with `mode` "setup": a customer saved a card for autopay; the card
  (brand, last four digits, expiry, the provider's ids) is read from the session's SetupIntent before
  the transaction and kept (services/autopay.py). `setup_intent.succeeded` says the same and is stored only.
- `payment_intent.succeeded` of an autopay charge (its metadata names the attempt): the payment is
  recorded on the invoice through `payment_record`, once; `payment_intent.payment_failed` marks the
  attempt failed. Intents of hosted checkouts are recorded by their session's event, not these.
Anything else is stored and left alone.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import stripe
from django.db import transaction

from billing.collections.services import collections_customer_recheck
from billing.collections.services.run import COLLECTIONS_SOURCE
from billing.invoicing.models import ZERO, Invoice, Payment, Refund
from billing.invoicing.services import AllocationInput, RefundSource, payment_record, refund_record
from billing.payments_online.errors import WebhookRefused
from billing.payments_online.models import AutopayAttempt, OnlineCheckout, PaymentProviderAccount, ProviderEvent
from billing.payments_online.providers import provider_for
from billing.payments_online.providers.base import CardDetails, from_minor_units
from billing.payments_online.services.autopay import (
    autopay_intent_failed,
    autopay_intent_succeeded,
    card_setup_complete,
    card_setup_pending,
)
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner
from subscriptions.models import Subscription
from subscriptions.secrets import secret_decrypt

logger = logging.getLogger(__name__)

# The events the partner's Stripe endpoint sends: the settings page lists them to register.
STRIPE_EVENTS = (
    "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.expired",
    "charge.refunded", "charge.dispute.created", "charge.dispute.closed", "charge.dispute.funds_reinstated",
    "payment_intent.succeeded", "payment_intent.payment_failed",
)  # fmt: skip


def _account(partner_ref: str) -> PaymentProviderAccount:
    partners = Partner.objects.filter(slug=partner_ref)
    if partner_ref.isdigit():
        partners = Partner.objects.filter(pk=int(partner_ref)) | partners
    account = PaymentProviderAccount.objects.select_related("partner").filter(partner__in=partners).first()
    if account is None:
        raise WebhookRefused("no payment provider account at this address")
    return account


def webhook_receive(*, partner_ref: str, payload: bytes, signature: str) -> ProviderEvent | None:
    """Verify, store and apply one webhook delivery. Returns the stored event, or None when it was
    stored before (a replay: nothing happens). WebhookRefused when it is not signed with the
    partner's secret; nothing is stored then."""
    account = _account(partner_ref)
    try:
        secret = secret_decrypt(account.webhook_secret_encrypted)
        stripe.Webhook.construct_event(payload, signature, secret)
        data = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise WebhookRefused(str(exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise WebhookRefused("not an event")
    card = _saved_card_read(account, data)
    with transaction.atomic():
        event, created = ProviderEvent.objects.get_or_create(
            partner=account.partner, event_id=data["id"],
            defaults={"provider": account.provider, "type": data["type"], "payload": data},
        )  # fmt: skip
        if not created:
            return None
        outcome, checkout = _apply(account.partner, data, card)
        event.outcome, event.checkout = outcome[:200], checkout
        event.save(update_fields=["outcome", "checkout"])
    return event


def _object(data: dict[str, Any]) -> dict[str, Any]:
    obj = (data.get("data") or {}).get("object") or {}
    return obj if isinstance(obj, dict) else {}


def _saved_card_read(account: PaymentProviderAccount, data: dict[str, Any]) -> CardDetails | None:
    """The card a completed setup session saved, read from the provider outside any transaction (a
    provider that does not answer raises ProviderUnavailable: the delivery fails and is retried)."""
    obj = _object(data)
    if data["type"] != "checkout.session.completed" or obj.get("mode") != "setup":
        return None
    intent = obj.get("setup_intent")
    if not isinstance(intent, str) or not card_setup_pending(partner=account.partner, session_id=str(obj.get("id"))):
        return None
    return provider_for(account).card_setup_read(intent)


def _apply(partner: Partner, data: dict[str, Any], card: CardDetails | None) -> tuple[str, OnlineCheckout | None]:
    kind, obj = data["type"], _object(data)
    if kind == "checkout.session.completed" and obj.get("mode") == "setup":
        if card is None or card_setup_complete(partner=partner, session_id=str(obj.get("id")), details=card) is None:
            return "ignored: unknown card setup", None
        return "card saved", None
    if kind == "payment_intent.succeeded":
        outcome, payment = autopay_intent_succeeded(partner=partner, intent=obj)
        if payment is not None:
            _reactivation_ask(payment.customer)
        return outcome, None
    if kind == "payment_intent.payment_failed":
        return autopay_intent_failed(partner=partner, intent=obj), None
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return _session_paid(partner, obj)
    if kind == "checkout.session.expired":
        checkout = _checkout(partner, session_id=obj.get("id"))
        if checkout is None:
            return "ignored: unknown checkout", None
        if checkout.status == OnlineCheckout.Status.OPEN:
            checkout.status = OnlineCheckout.Status.EXPIRED
            checkout.save(update_fields=["status"])
        return "checkout closed", checkout
    if kind == "charge.refunded":
        return _charge_refunded(partner, obj)
    if kind == "charge.dispute.created":
        return _dispute_created(partner, obj)
    if kind == "charge.dispute.funds_reinstated":
        return _dispute_funds_reinstated(partner, obj)
    if kind == "charge.dispute.closed":
        return _dispute_closed(partner, obj)
    return "ignored", None


def _checkout(partner: Partner, *, session_id: Any = None, intent_id: Any = None) -> OnlineCheckout | None:
    # Only the checkout's row, not its customer's and partner's: payment_record locks the customer
    # itself, after the invoices it pays.
    checkouts = OnlineCheckout.objects.select_for_update(of=("self",)).select_related("customer", "customer__partner")
    if isinstance(session_id, str) and session_id:
        return checkouts.filter(partner=partner, session_id=session_id).first()
    if isinstance(intent_id, str) and intent_id:
        return checkouts.filter(partner=partner, payment_intent_id=intent_id).first()
    return None


def _session_paid(partner: Partner, session: dict[str, Any]) -> tuple[str, OnlineCheckout | None]:
    checkout = _checkout(partner, session_id=session.get("id"))
    if checkout is None:
        return "ignored: unknown checkout", None
    if session.get("payment_status") != "paid":
        return "waiting: not paid yet", checkout
    if checkout.payment_id is not None:
        return "already recorded", checkout
    currency = str(session.get("currency") or "").upper()
    amount = from_minor_units(int(session.get("amount_total") or 0), currency or checkout.currency)
    if currency != checkout.currency or amount <= ZERO:
        logger.error("checkout %s paid %s %s, expected %s", checkout.pk, amount, currency, checkout.currency)
        return f"refused: paid {amount} {currency}, expected {checkout.currency}", checkout
    customer = checkout.customer
    left = amount
    allocations = []
    invoices = Invoice.objects.select_for_update().filter(pk__in=[int(k) for k in checkout.invoices], customer=customer)
    for invoice in invoices.order_by("due_date", "pk"):
        share = min(Decimal(checkout.invoices[str(invoice.pk)]), invoice.balance, left)
        if invoice.is_open and share > ZERO:
            allocations.append(AllocationInput(invoice=invoice, amount=share))
            left -= share
    intent = session.get("payment_intent")
    reference = intent if isinstance(intent, str) and intent else str(session.get("id"))
    payment = payment_record(
        partner=partner, customer=customer, actor=None, amount=amount,
        received_on=clock.today(partner.time_zone), method=Payment.Method.CARD, reference=reference,
        allocations=allocations, provider=checkout.provider,
    )  # fmt: skip
    checkout.status, checkout.payment = OnlineCheckout.Status.PAID, payment
    checkout.payment_intent_id = reference
    checkout.save(update_fields=["status", "payment", "payment_intent_id"])
    audit_record(
        partner=partner, customer=customer, actor=None, action="payments.online_paid", target=checkout,
        data={"amount": str(amount), "currency": currency, "reference": reference, "payment": payment.pk},
    )  # fmt: skip
    _reactivation_ask(customer)
    return "payment recorded", checkout


def _reactivation_ask(customer: Customer) -> None:
    """A customer collections hold suspended: have collections look again now (after commit), so the
    reactivation is asked for at once when the payment brought the overdue total under the minimum."""
    held = Subscription.objects.filter(
        customer=customer,
        suspension_source=COLLECTIONS_SOURCE,
        status__in=(Subscription.Status.SUSPENDED, Subscription.Status.SUSPENSION_PENDING),
    ).exists()
    if held:
        collections_customer_recheck(customer=customer, actor=None)


def _take_back(*, partner: Partner, payment_id: int | None, amount: Decimal, reason: str, reference: str) -> None:
    """Record money the provider gave back from a card payment: from its credit first, then off the
    invoices it paid (newest allocation first), which owe that part again."""
    payment = Payment.objects.get(pk=payment_id or 0)
    amount = min(amount, payment.amount - sum((r.amount for r in payment.refunds.all()), ZERO))
    if amount <= ZERO:
        return
    rest = amount - min(payment.unallocated, amount)
    sources = []
    for allocation in payment.allocations.active().order_by("-pk"):
        if rest <= ZERO:
            break
        share = min(rest, allocation.amount)
        sources.append(RefundSource(allocation=allocation, amount=share))
        rest -= share
    refund_record(
        payment=payment, actor=None, amount=amount, refunded_on=max(clock.today(partner.time_zone), payment.received_on),
        reason=reason, reference=reference, sources=sources,
    )  # fmt: skip


def _autopay_charge(partner: Partner, intent_id: Any) -> AutopayAttempt | None:
    """The recorded autopay charge of a payment intent (refunds and disputes of autopay charges)."""
    if not isinstance(intent_id, str) or not intent_id:
        return None
    return (
        AutopayAttempt.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(partner=partner, payment_intent_id=intent_id, payment__isnull=False)
        .first()
    )


def _charge_refunded(partner: Partner, charge: dict[str, Any]) -> tuple[str, OnlineCheckout | None]:
    checkout = _checkout(partner, intent_id=charge.get("payment_intent"))
    if checkout is None or checkout.payment_id is None:
        attempt = _autopay_charge(partner, charge.get("payment_intent"))
        if attempt is None:
            return "ignored: unknown payment", checkout
        total = from_minor_units(int(charge.get("amount_refunded") or 0), attempt.currency)
        if total - attempt.amount_refunded <= ZERO:
            return "already recorded", None
        _take_back(partner=partner, payment_id=attempt.payment_id, amount=total - attempt.amount_refunded,
                   reason="Refunded through the card provider", reference=str(charge.get("id") or ""))  # fmt: skip
        attempt.amount_refunded = total
        attempt.save(update_fields=["amount_refunded"])
        return "refund recorded", None
    total = from_minor_units(int(charge.get("amount_refunded") or 0), checkout.currency)
    new = total - checkout.amount_refunded
    if new <= ZERO:
        return "already recorded", checkout
    _take_back(partner=partner, payment_id=checkout.payment_id, amount=new, reason="Refunded through the card provider",
               reference=str(charge.get("id") or ""))  # fmt: skip
    checkout.amount_refunded = total
    if total >= checkout.amount:
        checkout.status = OnlineCheckout.Status.REFUNDED
    checkout.save(update_fields=["amount_refunded", "status"])
    return "refund recorded", checkout


def _dispute_created(partner: Partner, dispute: dict[str, Any]) -> tuple[str, OnlineCheckout | None]:
    checkout = _checkout(partner, intent_id=dispute.get("payment_intent"))
    reason = f"Card dispute ({dispute.get('reason') or 'no reason'})"
    if checkout is None or checkout.payment_id is None:
        attempt = _autopay_charge(partner, dispute.get("payment_intent"))
        if attempt is None:
            return "ignored: unknown payment", checkout
        amount = from_minor_units(int(dispute.get("amount") or 0), attempt.currency)
        _take_back(partner=partner, payment_id=attempt.payment_id, amount=amount, reason=reason,
                   reference=str(dispute.get("id") or ""))  # fmt: skip
        attempt.disputed = True
        attempt.save(update_fields=["disputed"])
        audit_record(
            partner=partner, customer=attempt.customer, actor=None, action="payments.disputed", target=attempt,
            data={"amount": str(amount), "reason": str(dispute.get("reason") or ""), "dispute": str(dispute.get("id"))},
        )  # fmt: skip
        return "dispute recorded", None
    amount = from_minor_units(int(dispute.get("amount") or 0), checkout.currency)
    _take_back(partner=partner, payment_id=checkout.payment_id, amount=amount, reason=reason,
               reference=str(dispute.get("id") or ""))  # fmt: skip
    checkout.disputed, checkout.status = True, OnlineCheckout.Status.DISPUTED
    checkout.save(update_fields=["disputed", "status"])
    audit_record(
        partner=partner, customer=checkout.customer, actor=None, action="payments.disputed", target=checkout,
        data={"amount": str(amount), "reason": str(dispute.get("reason") or ""), "dispute": str(dispute.get("id"))},
    )  # fmt: skip
    return "dispute recorded", checkout


def _dispute_taken(partner: Partner, dispute: dict[str, Any]) -> Refund | None:
    """What the dispute's creation took back (its Refund, the dispute's id as reference)."""
    dispute_id = dispute.get("id")
    if not isinstance(dispute_id, str) or not dispute_id:
        return None
    return Refund.objects.select_related("payment", "customer").filter(partner=partner, reference=dispute_id).first()


def _dispute_funds_reinstated(partner: Partner, dispute: dict[str, Any]) -> tuple[str, OnlineCheckout | None]:
    taken = _dispute_taken(partner, dispute)
    if taken is None:
        return "ignored: unknown dispute", None
    customer, reference = taken.customer, taken.reference
    if Payment.objects.filter(
        partner=partner, customer=customer, method=Payment.Method.CARD, reference=reference
    ).exists():
        return "already recorded", None
    reopened = taken.from_invoices or {}
    invoices = Invoice.objects.select_for_update().filter(partner=partner, customer=customer, number__in=list(reopened))
    allocations = []
    for invoice in invoices.order_by("pk"):
        share = min(Decimal(str(reopened[invoice.number])), invoice.balance) if invoice.is_open else ZERO
        if share > ZERO:
            allocations.append(AllocationInput(invoice=invoice, amount=share))
    payment = payment_record(
        partner=partner, customer=customer, actor=None, amount=taken.amount,
        received_on=clock.today(partner.time_zone), method=Payment.Method.CARD, reference=reference,
        allocations=allocations, provider=taken.payment.provider,
    )  # fmt: skip
    checkout = _checkout(partner, intent_id=dispute.get("payment_intent"))
    if checkout is not None and checkout.status == OnlineCheckout.Status.DISPUTED:
        checkout.status = OnlineCheckout.Status.PAID
        checkout.save(update_fields=["status"])
    audit_record(
        partner=partner, customer=customer, actor=None, action="payments.dispute_won", target=payment,
        data={"amount": str(taken.amount), "currency": taken.currency, "dispute": reference, "payment": payment.pk},
    )  # fmt: skip
    _reactivation_ask(customer)
    return "dispute won: payment recorded", checkout


def _dispute_closed(partner: Partner, dispute: dict[str, Any]) -> tuple[str, OnlineCheckout | None]:
    taken = _dispute_taken(partner, dispute)
    if taken is None:
        return "ignored: unknown dispute", None
    status = str(dispute.get("status") or "")
    audit_record(
        partner=partner, customer=taken.customer, actor=None, action="payments.dispute_closed", target=taken.payment,
        data={"dispute": taken.reference, "status": status, "amount": str(taken.amount), "currency": taken.currency},
    )  # fmt: skip
    return f"dispute closed: {status}", None
