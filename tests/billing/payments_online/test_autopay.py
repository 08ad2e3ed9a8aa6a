"""Autopay through Stripe: the real `stripe` library against the stand-in (tests/fakes/stripe.py) saves a
card on a setup-mode Checkout Session, the daily job charges due invoices off-session, and only the
signed payment_intent.succeeded webhook records the payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.invoicing.models import Invoice, Payment
from billing.payments_online.errors import CardNotSaved
from billing.payments_online.models import AutopayAttempt, SavedCard
from billing.payments_online.services import autopay_run, autopay_set, card_remove, card_setup_start
from billing.payments_online.services.autopay import CLAIM_STALE_AFTER, MAX_ATTEMPTS
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.billing.payments_online.test_stripe import _deliver
from tests.factories import CustomerFactory
from tests.factories.billing import assert_ledger_consistent
from tests.factories.collections import DUE, invoice_due

pytestmark = pytest.mark.django_db
HOME = "https://portal.example/my/"
OPT_IN = dt.date(2026, 11, 1)


def _save_card(customer, actor, stripe_fake, card: str = "4242") -> SavedCard:
    started = card_setup_start(customer=customer, actor=actor, success_url=HOME, cancel_url=HOME)
    assert _deliver(customer.partner, stripe_fake.setup_completed(started.session_id, card=card)).status_code == 200
    return SavedCard.objects.get(customer=customer)


def _opt_in(customer, actor, stripe_fake, card: str = "4242") -> SavedCard:
    _save_card(customer, actor, stripe_fake, card)
    with clock.frozen(OPT_IN):
        return autopay_set(customer=customer, actor=actor, enabled=True)


def _charges(stripe_fake) -> list[tuple[dict, dict]]:
    return [
        (params, headers) for method, path, params, headers in stripe_fake.requests if path == "/v1/payment_intents"
    ]


def _run_on(day: dt.date) -> int:
    with clock.frozen(day):
        return autopay_run()


def test_saving_a_card_keeps_what_identifies_it_never_the_number(tenant, stripe_partner, stripe_fake) -> None:
    card = _save_card(tenant.customer, tenant.customer_admin, stripe_fake)

    calls = [(m, p) for m, p, _params, _h in stripe_fake.requests]
    assert calls[:2] == [("POST", "/v1/customers"), ("POST", "/v1/checkout/sessions")]
    session_params = stripe_fake.requests[1][2]
    assert session_params["mode"] == "setup"
    assert session_params["currency"] == tenant.customer.currency.lower()
    assert session_params["customer"] == card.provider_customer_id
    assert ("GET", f"/v1/setup_intents/{next(iter(stripe_fake.setup_intents))}") in calls
    method = next(iter(stripe_fake.payment_methods.values()))
    assert (card.payment_method_id, card.brand, card.last4) == (method["id"], "visa", "4242")
    assert (card.exp_month, card.exp_year, card.autopay) == (8, 2030, False)
    assert AuditEvent.objects.get(action="payments.card_saved").data["card"] == "Visa •••• 4242"


def test_the_job_charges_a_due_invoice_once_and_the_webhook_records_it(tenant, stripe_partner, stripe_fake) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake)
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    card = SavedCard.objects.get(customer=tenant.customer)

    assert _run_on(DUE) == 1
    assert _run_on(DUE) == 0  # a doubled beat: claimed already
    assert _run_on(DUE + dt.timedelta(days=1)) == 0

    [(params, headers)] = _charges(stripe_fake)
    assert (params["amount"], params["currency"]) == ("10000", invoice.currency.lower())
    assert (params["off_session"], params["confirm"]) == ("true", "true")
    assert (params["customer"], params["payment_method"]) == (card.provider_customer_id, card.payment_method_id)
    assert headers["idempotency-key"] == f"portal-autopay-{invoice.pk}-1"
    attempt = AutopayAttempt.objects.get()
    assert (attempt.status, attempt.amount) == (AutopayAttempt.Status.SUCCEEDED, Decimal("100.00"))
    assert Payment.objects.count() == 0  # Stripe's answer is not the record: only the webhook is

    event = stripe_fake.intent_succeeded(attempt.payment_intent_id)
    assert _deliver(stripe_partner, event).status_code == 200
    assert _deliver(stripe_partner, event).status_code == 200

    payment = Payment.objects.get()
    assert (payment.amount, payment.method, payment.reference) == (
        Decimal("100.00"),
        Payment.Method.CARD,
        attempt.payment_intent_id,
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PAID, Decimal("0.00"))
    attempt.refresh_from_db()
    assert attempt.payment_id == payment.pk
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("test_card", "code", "message"),
    [
        ("0341", "card_declined", "Your card was declined."),
        ("3184", "authentication_required", "Your card was declined. This transaction requires authentication."),
    ],
)
def test_a_refused_charge_is_recorded_and_shown(
    tenant, stripe_partner, stripe_fake, client_for, test_card, code, message
) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake, card=test_card)
    invoice = invoice_due(tenant.customer, DUE, "100.00")

    _run_on(DUE)
    _run_on(DUE)

    assert len(_charges(stripe_fake)) == 1
    attempt = AutopayAttempt.objects.get()
    assert (attempt.status, attempt.failure_code, attempt.failure_message) == (
        AutopayAttempt.Status.FAILED,
        code,
        message,
    )
    assert attempt.payment_intent_id.startswith("pi_")
    assert Payment.objects.count() == 0
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("100.00")
    failed = AuditEvent.objects.get(action="payments.autopay_failed")
    assert (failed.data["code"], failed.customer_id) == (code, tenant.customer.pk)

    home = client_for(tenant.customer_member).get("/my/").content.decode()
    assert f'data-autopay-failed="{invoice.number}"' in home
    assert message in home
    invoice_page = client_for(tenant.finance).get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert 'data-autopay-attempt="failed"' in invoice_page
    assert message in invoice_page
    billing_page = client_for(tenant.agent).get(f"/staff/billing/customers/{tenant.customer.pk}/").content.decode()
    assert 'data-last-attempt="failed"' in billing_page


def test_nothing_is_charged_without_opt_in_or_card(tenant, stripe_partner, stripe_fake) -> None:
    _save_card(tenant.customer, tenant.customer_admin, stripe_fake)  # saved, autopay left off
    invoice_due(tenant.customer, DUE, "100.00")
    invoice_due(tenant.other_customer, DUE, "50.00")  # no card at all

    assert _run_on(DUE) == 0
    assert _charges(stripe_fake) == []
    with pytest.raises(CardNotSaved):
        autopay_set(customer=tenant.other_customer, actor=tenant.other_customer_admin, enabled=True)


def test_a_customer_no_longer_offered_card_payments_is_not_charged(tenant, stripe_partner, stripe_fake) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake)
    invoice_due(tenant.customer, DUE, "100.00")
    type(tenant.customer).objects.filter(pk=tenant.customer.pk).update(card_payments=False)

    assert _run_on(DUE) == 0
    assert _charges(stripe_fake) == []
    card_remove(customer=tenant.customer, actor=tenant.customer_admin)  # the card can still be removed
    assert not SavedCard.objects.exclude(payment_method_id="").exists()


def test_invoices_not_yet_due_or_due_before_the_opt_in_are_untouched(tenant, stripe_partner, stripe_fake) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake)
    later = invoice_due(tenant.customer, DUE + dt.timedelta(days=5), "70.00")
    older = invoice_due(tenant.customer, OPT_IN - dt.timedelta(days=3), "30.00")  # an old debt: collections' business

    assert _run_on(DUE) == 0
    assert _charges(stripe_fake) == []
    assert _run_on(DUE + dt.timedelta(days=5)) == 1
    assert AutopayAttempt.objects.get().invoice_id == later.pk
    assert not AutopayAttempt.objects.filter(invoice=older).exists()


def test_a_zero_decimal_currency_is_charged_in_its_own_units(tenant, stripe_partner, stripe_fake) -> None:
    customer = CustomerFactory(partner=tenant.partner, currency="JPY")
    _opt_in(customer, tenant.customer_admin, stripe_fake)
    invoice = invoice_due(customer, DUE, "12345")

    _run_on(DUE)
    [(params, _headers)] = _charges(stripe_fake)
    assert (params["amount"], params["currency"]) == ("12345", "jpy")

    _deliver(stripe_partner, stripe_fake.intent_succeeded(AutopayAttempt.objects.get().payment_intent_id))
    invoice.refresh_from_db()
    assert (invoice.status, Payment.objects.get().amount) == (Invoice.Status.PAID, Decimal("12345"))


def test_a_charge_whose_worker_died_is_taken_again_with_the_same_key(tenant, stripe_partner, stripe_fake) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake)
    invoice_due(tenant.customer, DUE, "100.00")
    _run_on(DUE)
    # As if the worker died after Stripe took the charge but before it wrote the answer down.
    died_at = dt.datetime.combine(DUE, dt.time(12, 0), tzinfo=dt.UTC)
    AutopayAttempt.objects.update(status=AutopayAttempt.Status.PENDING, claimed_at=died_at)

    with clock.frozen(died_at + CLAIM_STALE_AFTER - dt.timedelta(minutes=1)):
        assert autopay_run() == 0  # its worker may still be charging
    with clock.frozen(died_at + CLAIM_STALE_AFTER + dt.timedelta(minutes=1)):
        assert autopay_run() == 1

    charges = _charges(stripe_fake)
    assert [h["idempotency-key"] for _p, h in charges] == [charges[0][1]["idempotency-key"]] * 2
    assert len(stripe_fake.intents) == 1  # Stripe answered the first charge again: one charge only
    assert AutopayAttempt.objects.get().status == AutopayAttempt.Status.SUCCEEDED


def test_removing_the_card_detaches_it_and_turns_autopay_off(tenant, stripe_partner, stripe_fake) -> None:
    card = _opt_in(tenant.customer, tenant.customer_admin, stripe_fake)
    method_id = card.payment_method_id

    card_remove(customer=tenant.customer, actor=tenant.customer_admin)

    assert ("POST", f"/v1/payment_methods/{method_id}/detach") in [(m, p) for m, p, _a, _h in stripe_fake.requests]
    assert stripe_fake.payment_methods[method_id]["customer"] is None
    card.refresh_from_db()
    assert (card.payment_method_id, card.last4, card.autopay) == ("", "", False)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"payments.card_removed", "payments.autopay_off", "payments.autopay_on"} <= actions
    invoice_due(tenant.customer, DUE, "100.00")
    assert _run_on(DUE) == 0


def test_a_refund_or_dispute_of_an_autopay_charge_reopens_the_invoice(tenant, stripe_partner, stripe_fake) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake)
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    _run_on(DUE)
    intent = AutopayAttempt.objects.get().payment_intent_id
    _deliver(stripe_partner, stripe_fake.intent_succeeded(intent))

    refund = stripe_fake.refund(intent, 3000)
    assert _deliver(stripe_partner, refund).status_code == 200
    assert _deliver(stripe_partner, refund).status_code == 200
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("30.00")

    _deliver(stripe_partner, stripe_fake.dispute(intent, 7000))
    invoice.refresh_from_db()
    attempt = AutopayAttempt.objects.get()
    assert (invoice.balance, attempt.amount_refunded, attempt.disputed) == (Decimal("100.00"), Decimal("30.00"), True)
    assert_ledger_consistent()


def _days(n: int) -> dt.date:
    return DUE + dt.timedelta(days=n)


def test_a_refusal_the_bank_may_lift_is_tried_again_3_then_5_days_later_each_with_its_own_key(
    tenant, stripe_partner, stripe_fake, client_for
) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake, card="9995")
    invoice = invoice_due(tenant.customer, DUE, "100.00")

    assert _run_on(DUE) == 1
    first = AutopayAttempt.objects.get()
    assert (first.failure_code, first.decline_code, first.retry_on) == ("card_declined", "insufficient_funds", _days(3))
    home = client_for(tenant.customer_admin).get("/my/").content.decode()
    assert "We will try the card again on" in home
    assert "Your card has insufficient funds." in home

    assert [_run_on(_days(n)) for n in (1, 2, 3, 4, 7, 8, 9, 30)] == [0, 0, 1, 0, 0, 1, 0, 0]

    attempts = list(AutopayAttempt.objects.order_by("attempt"))
    assert [(a.attempt, a.status, a.retry_on) for a in attempts] == [
        (1, "failed", _days(3)),
        (2, "failed", _days(8)),
        (3, "failed", None),  # tried three times: no more on this card
    ]
    keys = [h["idempotency-key"] for _p, h in _charges(stripe_fake)]
    assert keys == [f"portal-autopay-{invoice.pk}-{n}" for n in (1, 2, 3)]
    last = AuditEvent.objects.filter(action="payments.autopay_failed").order_by("-pk").first()
    assert (last.data["attempt"], last.data["retry_on"], last.data["decline_code"]) == (3, None, "insufficient_funds")
    home = client_for(tenant.customer_admin).get("/my/").content.decode()
    assert "Please pay the invoice another way or save another card." in home


def test_a_refusal_waiting_does_not_change_is_tried_again_only_on_another_card(
    tenant, stripe_partner, stripe_fake
) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake, card="3184")  # needs the cardholder present
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    _run_on(DUE)
    assert AutopayAttempt.objects.get().retry_on is None
    assert [_run_on(_days(n)) for n in (3, 8, 20)] == [0, 0, 0]

    _save_card(tenant.customer, tenant.customer_admin, stripe_fake, card="4242")  # the customer saves another card

    assert _run_on(_days(21)) == 1
    assert _run_on(_days(22)) == 0
    second = AutopayAttempt.objects.get(attempt=2)
    assert (second.status, second.card_label) == (AutopayAttempt.Status.SUCCEEDED, "Visa •••• 4242")
    _deliver(stripe_partner, stripe_fake.intent_succeeded(second.payment_intent_id))
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_no_invoice_is_tried_more_than_the_limit_even_on_new_cards(tenant, stripe_partner, stripe_fake) -> None:
    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake, card="3184")
    invoice_due(tenant.customer, DUE, "100.00")
    for day in range(MAX_ATTEMPTS + 2):
        _run_on(_days(day))
        _save_card(tenant.customer, tenant.customer_admin, stripe_fake, card="3184")  # another card, refused too
    assert AutopayAttempt.objects.count() == MAX_ATTEMPTS
    assert len(_charges(stripe_fake)) == MAX_ATTEMPTS


def test_the_customer_is_emailed_once_per_refusal_in_its_language(
    tenant, stripe_partner, stripe_fake, on_commit
) -> None:
    from django.core import mail

    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake, card="9995")
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    mail.outbox.clear()
    with on_commit():
        _run_on(DUE)
    [message] = mail.outbox
    assert message.to == [tenant.customer.billing_email]
    assert message.subject == f"Automatic payment of invoice {invoice.number} failed ({tenant.partner.name})"
    assert "We could not charge 100.00\xa0USD" in message.body
    assert "Your card has insufficient funds." in message.body
    assert "We will try the card again on Dec 3, 2026." in message.body
    assert "/my/" in message.body
    attempt = AutopayAttempt.objects.get()
    # Stripe's payment_intent.payment_failed for the same charge tells nothing new: no second email.
    with on_commit():
        _deliver(
            stripe_partner,
            stripe_fake._event("payment_intent.payment_failed", stripe_fake.intents[attempt.payment_intent_id]),
        )
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="payments.autopay_failure_emailed").count() == 1

    tenant.customer.language = "ru"
    tenant.customer.save(update_fields=["language"])
    with on_commit():
        _run_on(_days(3))  # the retry is refused too
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.startswith(f"Автоматическая оплата счёта {invoice.number} не прошла")
    assert "Мы попробуем списать с карты ещё раз 08.12.2026" in mail.outbox[1].body


def test_a_final_refusal_email_says_the_card_is_not_tried_again(tenant, stripe_partner, stripe_fake, on_commit) -> None:
    from django.core import mail

    _opt_in(tenant.customer, tenant.customer_admin, stripe_fake, card="3184")
    invoice_due(tenant.customer, DUE, "100.00")
    mail.outbox.clear()
    with on_commit():
        _run_on(DUE)
    [message] = mail.outbox
    assert "We will not try this card again." in message.body
