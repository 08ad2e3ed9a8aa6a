"""Autopay: a customer admin saves a card at the provider and opts in; each open invoice is then
charged off-session on its due date by the daily job (autopay_run).

- Saving a card sends the customer to the provider's setup page (`card_setup_start`); the card is
  stored only when the provider's signed webhook says the setup completed (`card_setup_complete`,
  called by the webhook code): the provider's ids, brand, last four digits and expiry, never the number.
- The job claims each due invoice by creating its AutopayAttempt (unique per invoice and attempt)
  before it calls the provider, with an idempotency key derived from that row: a second run, a second
  worker or a retried call never charges twice. A pending row whose worker died is taken again after
  CLAIM_STALE_AFTER, with the same key, so the provider answers the first charge's result.
- The payment is recorded only by the provider's payment_intent.succeeded webhook
  (`autopay_intent_succeeded`), through payment_record (method card, the intent as reference), so it
  is recorded once whatever the order of the job's answer and the webhook.
- A refused charge is kept on the attempt (the provider's code and message), emailed to the customer
  (once, in its language: what was refused, why, and when the card is tried again or what to do),
  shown to the customer and to staff, and audited; collections go on as for any unpaid invoice. A refusal the issuer may lift
  (insufficient funds, a generic decline, the bank unreachable) is tried again 3 and then 5 days later,
  each try an attempt of its own with its own idempotency key; a refusal that waiting does not change
  (FINAL_REFUSALS: a stolen or expired card, authentication needed, ...) is not tried again on that
  card. Another card saved after the refusal is tried at the next run. At most MAX_ATTEMPTS per invoice: card
  networks penalise repeated tries on a refused card.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from billing.invoicing.models import ZERO, Invoice, Payment
from billing.invoicing.paylink import invoice_pay_url
from billing.invoicing.services import AllocationInput, billing_recipients, payment_record
from billing.payments_online.errors import (
    CardChargeFailed,
    CardNotSaved,
    OnlinePaymentsNotSetUp,
    ProviderUnavailable,
)
from billing.payments_online.models import AutopayAttempt, PaymentProviderAccount, SavedCard
from billing.payments_online.providers import provider_for
from billing.payments_online.providers.base import (
    CardDetails,
    CardSetupRequest,
    CardSetupStarted,
    ChargeRequest,
    from_minor_units,
)
from billing.payments_online.services.accounts import customer_account, partner_account
from billing.payments_online.tasks import autopay_failure_notify_task
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User

logger = logging.getLogger(__name__)

# A pending attempt older than this lost its worker (the job takes minutes); the next run takes it again.
CLAIM_STALE_AFTER = dt.timedelta(hours=1)
# Invoices charged per run and partner: the rest wait for the next run (a doubled run finds them claimed).
RUN_BATCH = 500
# Days after a failed attempt (by its number) before the same card is tried again; then no more.
RETRY_AFTER_DAYS = {1: 3, 2: 5}
MAX_ATTEMPTS = 4  # per invoice, counting the tries of cards saved after a refusal
# Refusals that trying the same card again does not change (docs.stripe.com/declines/codes: the codes
# whose next step is another card or the customer's action; authentication_required cannot be given
# off-session). Matched against the issuer's decline code, else the provider's error code.
FINAL_REFUSALS = frozenset(
    {
        "authentication_required", "card_not_supported", "currency_not_supported", "do_not_try_again",
        "expired_card", "fraudulent", "incorrect_cvc", "incorrect_number", "invalid_account", "invalid_cvc",
        "invalid_expiry_month", "invalid_expiry_year", "invalid_number", "lost_card", "merchant_blacklist",
        "new_account_information_available", "pickup_card", "restricted_card", "revocation_of_all_authorizations",
        "revocation_of_authorization", "security_violation", "stolen_card", "stop_payment_order",
        "transaction_not_allowed",
    }
)  # fmt: skip


def card_label(card: SavedCard | CardDetails) -> str:
    return f"{card.brand.title()} •••• {card.last4}"


def card_setup_start(*, customer: Customer, actor: User | None, success_url: str, cancel_url: str) -> CardSetupStarted:
    """Send the customer to the provider's page to save a card. Nothing is stored of the card here:
    only the setup's id, which the provider's webhook names when the card is saved."""
    account = customer_account(customer)
    provider = provider_for(account)
    card, _created = SavedCard.objects.get_or_create(
        customer=customer, defaults={"partner_id": customer.partner_id, "provider": account.provider}
    )
    same_provider = card.provider == account.provider
    started = provider.card_setup_create(
        CardSetupRequest(
            reference=str(customer.pk), currency=customer.currency, success_url=success_url, cancel_url=cancel_url,
            customer_name=customer.name, customer_email=customer.billing_email,
            provider_customer_id=card.provider_customer_id if same_provider else "",
        )
    )  # fmt: skip
    updates: dict[str, Any] = {"setup_session_id": started.session_id, "updated_at": clock.now()}
    if started.provider_customer_id:
        updates["provider_customer_id"] = started.provider_customer_id
    SavedCard.objects.filter(pk=card.pk).update(**updates)
    return started


def card_setup_pending(*, partner: Partner, session_id: str) -> bool:
    """Whether a setup with this id was started here (the webhook reads the card only then)."""
    return bool(session_id) and SavedCard.objects.filter(partner=partner, setup_session_id=session_id).exists()


def card_setup_complete(*, partner: Partner, session_id: str, details: CardDetails) -> SavedCard | None:
    """Keep the card a completed setup saved (called by the webhook, inside its transaction). A card
    saved before is replaced (and detached at the provider after commit); autopay stays as it was.
    None when no setup of this partner has that id. Audited."""
    card = (
        SavedCard.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(partner=partner, setup_session_id=session_id)
        .first()
    )
    if card is None:
        return None
    old = card.payment_method_id
    if old == details.payment_method_id:
        return card
    account = PaymentProviderAccount.objects.get(partner=partner)
    card.provider = account.provider
    card.payment_method_id, card.brand, card.last4 = details.payment_method_id, details.brand, details.last4
    card.exp_month, card.exp_year = details.exp_month, details.exp_year
    if details.provider_customer_id:
        card.provider_customer_id = details.provider_customer_id
    card.saved_at = card.updated_at = clock.now()
    card.save()
    audit_record(
        partner=partner, customer=card.customer, actor=None, action="payments.card_saved", target=card,
        data={"card": card_label(card), "expires": f"{details.exp_month}/{details.exp_year}", "replaced": bool(old)},
    )  # fmt: skip
    if old:
        transaction.on_commit(lambda: _detach_quietly(account, old))
    return card


def _detach_quietly(account: PaymentProviderAccount, payment_method_id: str) -> None:
    try:
        provider_for(account).card_detach(payment_method_id)
    except ProviderUnavailable:
        logger.warning("replaced card %s was not detached at the provider", payment_method_id)


def card_remove(*, customer: Customer, actor: User | None) -> None:
    """Remove the saved card: detach it at the provider first (a provider that cannot be reached
    leaves everything as it was: ProviderUnavailable), then forget it here and turn autopay off.
    Audited (and autopay off, when it was on)."""
    card = SavedCard.objects.filter(customer=customer).exclude(payment_method_id="").first()
    if card is None:
        return
    account = partner_account(customer.partner_id)  # a card is removed even when no longer offered
    if card.provider == account.provider:
        provider_for(account).card_detach(card.payment_method_id)
    with transaction.atomic():
        card = SavedCard.objects.select_for_update().get(pk=card.pk)
        label, was_on = card_label(card), card.autopay
        card.payment_method_id = card.brand = card.last4 = ""
        card.exp_month = card.exp_year = None
        card.autopay, card.autopay_since, card.updated_at = False, None, clock.now()
        card.save()
        audit_record(partner=customer.partner, customer=customer, actor=actor, action="payments.card_removed",
                     target=card, data={"card": label})  # fmt: skip
        if was_on:
            audit_record(partner=customer.partner, customer=customer, actor=actor, action="payments.autopay_off",
                         target=card, data={"card": label, "reason": "card removed"})  # fmt: skip


@transaction.atomic
def autopay_set(*, customer: Customer, actor: User | None, enabled: bool) -> SavedCard:
    """Turn autopay on or off. On needs a saved card (CardNotSaved); invoices due from today on are
    charged, not older ones. Idempotent; audited when it changes."""
    card = SavedCard.objects.select_for_update().filter(customer=customer).first()
    if card is None or not card.has_card:
        if not enabled and card is not None:
            return card
        raise CardNotSaved(_("Save a card first: autopay charges the saved card."))
    if card.autopay == enabled:
        return card
    card.autopay = enabled
    card.autopay_since = clock.today(customer.partner.time_zone) if enabled else None
    card.updated_at = clock.now()
    card.save(update_fields=["autopay", "autopay_since", "updated_at"])
    audit_record(
        partner=customer.partner, customer=customer, actor=actor,
        action="payments.autopay_on" if enabled else "payments.autopay_off", target=card,
        data={"card": card_label(card)},
    )  # fmt: skip
    return card


# ---- The daily job --------------------------------------------------------------------------------


def next_attempt_number(
    latest: AutopayAttempt | None, *, payment_method_id: str, on: dt.date, now: dt.datetime
) -> int | None:
    """The number of the attempt to make now for an invoice whose latest attempt is `latest`, or None
    when it is not to be charged now: the first; a pending one whose worker died (again, same key); the
    next after a refusal once its retry day came or on another card; never after a success."""
    if latest is None:
        return 1
    if latest.status == AutopayAttempt.Status.SUCCEEDED or latest.payment_id is not None:
        return None
    if latest.status == AutopayAttempt.Status.PENDING:
        return latest.attempt if latest.claimed_at < now - CLAIM_STALE_AFTER else None
    if latest.attempt >= MAX_ATTEMPTS:
        return None
    new_card = bool(latest.payment_method_id) and latest.payment_method_id != payment_method_id
    if new_card or (latest.retry_on is not None and latest.retry_on <= on):
        return latest.attempt + 1
    return None


def retry_day(*, attempt: int, reason: str, today: dt.date) -> dt.date | None:
    """When a refused attempt is tried again on the same card: None for a final refusal or the last try."""
    days = RETRY_AFTER_DAYS.get(attempt)
    if reason in FINAL_REFUSALS or days is None or attempt >= MAX_ATTEMPTS:
        return None
    return today + dt.timedelta(days=days)


def autopay_due_invoices(*, partner: Partner, on: dt.date) -> list[int]:
    """Ids of the partner's open invoices to charge on `on`: the customer has autopay on with a card,
    the invoice is due on or before `on` but not before autopay was turned on, it owes something in the
    customer's currency, and `next_attempt_number` says to charge it now. Two queries."""
    now = clock.now()
    cards = SavedCard.objects.filter(partner=partner, autopay=True, customer__card_payments=True).exclude(
        payment_method_id=""
    )
    card_of = {customer_id: (since, method) for customer_id, since, method in
               cards.values_list("customer_id", "autopay_since", "payment_method_id")}  # fmt: skip
    if not card_of:
        return []
    candidates = (
        Invoice.objects.open()
        .filter(partner=partner, customer_id__in=list(card_of), due_date__lte=on, balance__gt=ZERO)
        .filter(currency=F("customer__currency"))  # payments are recorded in the customer's currency
    )
    latest: dict[int, AutopayAttempt] = {}
    for attempt in AutopayAttempt.objects.filter(partner=partner, invoice__in=candidates).order_by("attempt"):
        latest[attempt.invoice_id] = attempt
    due = []
    for pk, customer_id, due_date in candidates.order_by("due_date", "pk").values_list("pk", "customer_id", "due_date"):
        since, method = card_of[customer_id]
        if due_date is None or due_date < (since or on):
            continue
        if next_attempt_number(latest.get(pk), payment_method_id=method, on=on, now=now) is not None:
            due.append(pk)
            if len(due) == RUN_BATCH:
                break
    return due


def autopay_run() -> int:
    """Charge every due invoice of every partner, each on its partner's own date. Safe to run twice
    and on two workers at once: each charge is claimed first. Returns how many charges were tried."""
    tried = 0
    partner_ids = SavedCard.objects.filter(autopay=True).values_list("partner_id", flat=True).distinct()
    for partner in Partner.objects.filter(pk__in=list(partner_ids)).order_by("pk"):
        on = clock.today(partner.time_zone)
        for invoice_id in autopay_due_invoices(partner=partner, on=on):
            if autopay_charge_invoice(invoice_id=invoice_id, on=on) is not None:
                tried += 1
    return tried


def _claim(invoice: Invoice, card: SavedCard, number: int) -> AutopayAttempt | None:
    """Attempt `number` of the invoice, taken by this worker alone; None when another has it or it is done."""
    try:
        with transaction.atomic():
            return AutopayAttempt.objects.create(
                partner_id=invoice.partner_id, customer_id=invoice.customer_id, invoice=invoice, attempt=number,
                provider=card.provider, amount=invoice.balance, currency=invoice.currency, card_label=card_label(card),
                payment_method_id=card.payment_method_id,
            )  # fmt: skip
    except IntegrityError:
        pass  # attempted before: take it again only if its worker died while charging (compare-and-set)
    now = clock.now()
    taken = AutopayAttempt.objects.filter(
        invoice=invoice, attempt=number, status=AutopayAttempt.Status.PENDING, claimed_at__lt=now - CLAIM_STALE_AFTER
    ).update(claimed_at=now)
    return AutopayAttempt.objects.get(invoice=invoice, attempt=number) if taken == 1 else None


def autopay_charge_invoice(*, invoice_id: int, on: dt.date) -> AutopayAttempt | None:
    """Charge one invoice with its customer's saved card, if it is still due and nobody else is charging
    it. The provider is called outside any transaction. Returns the attempt, or None when skipped."""
    invoice = Invoice.objects.select_related("customer", "partner").filter(pk=invoice_id).first()
    if invoice is None:
        return None
    card = SavedCard.objects.filter(customer_id=invoice.customer_id, autopay=True).first()
    if card is None or not card.has_card:
        return None
    if not invoice.is_open or invoice.balance <= ZERO or invoice.due_date is None or invoice.due_date > on:
        return None
    account = PaymentProviderAccount.objects.filter(partner_id=invoice.partner_id).first()
    if account is None or account.provider != card.provider:
        return None  # the partner changed provider: the card belongs to the old one
    latest = AutopayAttempt.objects.filter(invoice=invoice).order_by("-attempt").first()
    number = next_attempt_number(latest, payment_method_id=card.payment_method_id, on=on, now=clock.now())
    attempt = _claim(invoice, card, number) if number is not None else None
    if attempt is None:
        return None
    request = ChargeRequest(
        amount=attempt.amount, currency=attempt.currency, provider_customer_id=card.provider_customer_id,
        payment_method_id=card.payment_method_id,
        description=_("Invoice %(number)s") % {"number": invoice.number},
        idempotency_key=attempt.idempotency_key,
        metadata={"autopay_attempt": str(attempt.pk), "invoice": str(invoice.pk), "portal_customer": str(card.customer_id)},
    )  # fmt: skip
    try:
        result = provider_for(account).card_charge(request)
    except CardChargeFailed as exc:
        _attempt_failed(
            attempt, code=exc.failure_code, message=str(exc), intent_id=exc.payment_intent_id,
            decline_code=exc.decline_code,
        )  # fmt: skip
    except (ProviderUnavailable, OnlinePaymentsNotSetUp) as exc:
        # Not an answer about the card: the row stays pending and is taken again by a later run.
        logger.warning("autopay of invoice %s not charged now: %s", invoice.pk, exc)
    else:
        AutopayAttempt.objects.filter(pk=attempt.pk, status=AutopayAttempt.Status.PENDING).update(
            payment_intent_id=result.payment_intent_id, finished_at=clock.now(),
            status=AutopayAttempt.Status.SUCCEEDED if result.status == "succeeded" else AutopayAttempt.Status.PENDING,
        )  # fmt: skip
        if account.provider == PaymentProviderAccount.Provider.DEMO:
            from billing.payments_online.services.demo import demo_intent_succeeded_send

            attempt.refresh_from_db()
            demo_intent_succeeded_send(attempt=attempt, payment_method_id=card.payment_method_id)
    attempt.refresh_from_db()
    return attempt


def _attempt_failed(attempt: AutopayAttempt, *, code: str, message: str, intent_id: str, decline_code: str) -> None:
    with transaction.atomic():
        invoice = Invoice.objects.select_related("customer", "partner").get(pk=attempt.invoice_id)
        retry_on = retry_day(
            attempt=attempt.attempt, reason=decline_code or code, today=clock.today(invoice.partner.time_zone)
        )
        changed = AutopayAttempt.objects.filter(pk=attempt.pk, payment__isnull=True).exclude(
            status=AutopayAttempt.Status.FAILED
        ).update(
            status=AutopayAttempt.Status.FAILED, failure_code=code[:100], failure_message=message[:500],
            decline_code=decline_code[:100], retry_on=retry_on,
            payment_intent_id=intent_id or attempt.payment_intent_id, finished_at=clock.now(),
        )  # fmt: skip
        if changed:
            transaction.on_commit(lambda: autopay_failure_notify_task.delay(attempt_id=attempt.pk))
            audit_record(
                partner=invoice.partner, customer=invoice.customer, actor=None, action="payments.autopay_failed",
                target=invoice,
                data={"invoice": invoice.number, "amount": str(attempt.amount), "currency": attempt.currency,
                      "code": code, "decline_code": decline_code, "message": message, "reference": intent_id,
                      "card": attempt.card_label, "attempt": attempt.attempt,
                      "retry_on": retry_on.isoformat() if retry_on else None},
            )  # fmt: skip


# ---- Webhooks (called by services/webhooks.py inside its transaction) ----------------------------


def _attempt_for_intent(partner: Partner, intent: dict[str, Any]) -> AutopayAttempt | None:
    metadata = intent.get("metadata") or {}
    ref = metadata.get("autopay_attempt") if isinstance(metadata, dict) else None
    attempts = AutopayAttempt.objects.select_for_update().filter(partner=partner)
    if isinstance(ref, str) and ref.isdigit():
        return attempts.filter(pk=int(ref)).first()
    intent_id = intent.get("id")
    if isinstance(intent_id, str) and intent_id:
        return attempts.filter(payment_intent_id=intent_id).first()
    return None


def autopay_intent_succeeded(*, partner: Partner, intent: dict[str, Any]) -> tuple[str, Payment | None]:
    """payment_intent.succeeded of an autopay charge: record the payment on the invoice, once."""
    attempt = _attempt_for_intent(partner, intent)
    if attempt is None:
        return "ignored: not an autopay charge", None
    if attempt.payment_id is not None:
        return "already recorded", None
    currency = str(intent.get("currency") or "").upper()
    received = intent.get("amount_received", intent.get("amount"))
    amount = from_minor_units(int(received or 0), currency or attempt.currency)
    if currency != attempt.currency or amount <= ZERO:
        logger.error("autopay attempt %s paid %s %s, expected %s", attempt.pk, amount, currency, attempt.currency)
        return f"refused: paid {amount} {currency}, expected {attempt.currency}", None
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("customer").get(pk=attempt.invoice_id)
    share = min(invoice.balance, amount) if invoice.is_open else Decimal(0)
    reference = str(intent.get("id") or attempt.payment_intent_id)
    payment = payment_record(
        partner=partner, customer=invoice.customer, actor=None, amount=amount,
        received_on=clock.today(partner.time_zone), method=Payment.Method.CARD, reference=reference,
        allocations=[AllocationInput(invoice=invoice, amount=share)] if share > ZERO else [],
        provider=attempt.provider,
    )  # fmt: skip
    attempt.status, attempt.payment, attempt.payment_intent_id = AutopayAttempt.Status.SUCCEEDED, payment, reference
    attempt.finished_at = attempt.finished_at or clock.now()
    attempt.save(update_fields=["status", "payment", "payment_intent_id", "finished_at"])
    audit_record(
        partner=partner, customer=invoice.customer, actor=None, action="payments.autopay_paid", target=invoice,
        data={"invoice": invoice.number, "amount": str(amount), "currency": currency, "reference": reference,
              "payment": payment.pk},
    )  # fmt: skip
    return "payment recorded", payment


def autopay_intent_failed(*, partner: Partner, intent: dict[str, Any]) -> str:
    """payment_intent.payment_failed of an autopay charge (a charge that failed after it was taken in)."""
    attempt = _attempt_for_intent(partner, intent)
    if attempt is None:
        return "ignored: not an autopay charge"
    error = intent.get("last_payment_error") or {}
    _attempt_failed(
        attempt, code=str(error.get("code") or "payment_failed"),
        message=str(error.get("message") or "The card payment failed."), intent_id=str(intent.get("id") or ""),
        decline_code=str(error.get("decline_code") or ""),
    )  # fmt: skip
    return "autopay failure recorded"


def autopay_failure_notify(*, attempt_id: int) -> bool:
    """Email the customer's billing address that an autopay charge was refused: the invoice, the amount,
    the card and the provider's reason; when the card is tried again, or that it will not be and how to
    pay instead. Once per attempt (claimed before sending; released if sending fails). Audited."""
    now = clock.now()
    claimed = AutopayAttempt.objects.filter(
        pk=attempt_id, status=AutopayAttempt.Status.FAILED, notified_at__isnull=True
    ).update(notified_at=now)
    if not claimed:
        return False
    attempt = AutopayAttempt.objects.select_related("invoice", "invoice__customer", "invoice__partner").get(
        pk=attempt_id
    )
    invoice, customer = attempt.invoice, attempt.invoice.customer
    recipients = billing_recipients(customer)
    if not recipients or not invoice.is_open:
        return False
    context = {
        "attempt": attempt, "invoice": invoice, "customer": customer, "partner": invoice.partner,
        "pay_url": invoice_pay_url(invoice), "home_url": settings.PORTAL_BASE_URL.rstrip("/") + reverse("customer_home"),
    }  # fmt: skip
    with translation.override(customer.language):
        subject = " ".join(render_to_string("emails/autopay_failed_subject.txt", context).split())
        message = EmailMultiAlternatives(
            subject, render_to_string("emails/autopay_failed.txt", context), settings.DEFAULT_FROM_EMAIL, recipients
        )
        message.attach_alternative(render_to_string("emails/autopay_failed.html", context), "text/html")
    try:
        message.send()
    except Exception:
        AutopayAttempt.objects.filter(pk=attempt_id, notified_at=now).update(notified_at=None)  # the retry sends it
        raise
    audit_record(
        partner=invoice.partner, customer=customer, actor=None, action="payments.autopay_failure_emailed",
        target=invoice, data={"invoice": invoice.number, "to": ", ".join(recipients), "attempt": attempt.attempt},
    )  # fmt: skip
    return True
