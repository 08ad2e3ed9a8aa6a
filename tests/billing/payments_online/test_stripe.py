"""Card payments through Stripe: the real `stripe` library against the stand-in (tests/fakes/stripe.py),
webhooks signed as Stripe signs them and posted to the portal's endpoint."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.test import Client

from billing.invoicing.models import Invoice, Payment, Refund
from billing.invoicing.services import payment_record
from billing.payments_online.errors import CheckoutRefused, ProviderUnavailable
from billing.payments_online.models import OnlineCheckout, PaymentProviderAccount, ProviderEvent
from billing.payments_online.services import checkout_start_invoice, checkout_start_overdue
from partner_portal import clock
from partner_portal.models import AuditEvent
from subscriptions.models import Subscription, SubscriptionChange
from tests.billing.payments_online.conftest import SECRET_KEY, WEBHOOK_SECRET
from tests.factories.billing import assert_ledger_consistent, issued
from tests.factories.collections import DUE, invoice_due, run_on
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db
RETURN = "https://portal.example/my/pay/return/?checkout={checkout}&result=paid"
CANCEL = "https://portal.example/my/pay/return/?checkout={checkout}&result=cancelled"


def _deliver(partner, event, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    from tests.fakes.stripe import FakeStripe

    body, header = FakeStripe.sign(event, secret, timestamp=timestamp)
    return Client().post(
        f"/webhooks/stripe/{partner.slug}/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def _paid_checkout(stripe_fake, invoice) -> tuple[OnlineCheckout, dict]:
    checkout = checkout_start_invoice(invoice=invoice, actor=None, success_url=RETURN, cancel_url=CANCEL)
    return checkout, stripe_fake.session_completed(checkout.session_id)


def test_a_checkout_is_created_in_stripe_in_the_invoice_currency(tenant, stripe_partner, stripe_fake) -> None:
    invoice = issued(tenant.customer)
    checkout = checkout_start_invoice(
        invoice=invoice, actor=tenant.customer_admin, success_url=RETURN, cancel_url=CANCEL
    )

    method, path, params, headers = stripe_fake.requests[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert headers["idempotency-key"] == f"portal-checkout-{checkout.pk}"
    assert params["mode"] == "payment"
    assert params["line_items"][0]["price_data"]["currency"] == invoice.currency.lower()
    assert params["line_items"][0]["price_data"]["unit_amount"] == str(int(invoice.balance * 100))
    assert params["success_url"] == RETURN.replace("{checkout}", str(checkout.pk))
    assert checkout.url == f"https://checkout.stripe.com/c/pay/{checkout.session_id}"
    assert checkout.amount == invoice.balance == Decimal("432.00")
    assert checkout.status == OnlineCheckout.Status.OPEN


def test_a_paid_checkout_records_the_payment_once_the_webhook_arrives(tenant, stripe_partner, stripe_fake) -> None:
    invoice = issued(tenant.customer)
    checkout, event = _paid_checkout(stripe_fake, invoice)
    assert Payment.objects.count() == 0  # returning from Stripe is not proof: only the webhook is

    answer = _deliver(stripe_partner, event)

    assert answer.status_code == 200
    payment = Payment.objects.get()
    assert (payment.amount, payment.method) == (Decimal("432.00"), Payment.Method.CARD)
    assert payment.reference == event["data"]["object"]["payment_intent"]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PAID, Decimal("0.00"))
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_id) == (OnlineCheckout.Status.PAID, payment.pk)
    assert ProviderEvent.objects.get().outcome == "payment recorded"
    assert AuditEvent.objects.filter(action="payments.online_paid").count() == 1
    assert_ledger_consistent()


def test_staff_see_which_provider_took_a_card_payment(tenant, stripe_partner, stripe_fake, client_for, api_for) -> None:
    invoice = issued(tenant.customer)
    _checkout, event = _paid_checkout(stripe_fake, invoice)
    assert _deliver(stripe_partner, event).status_code == 200
    payment = Payment.objects.get()
    assert payment.provider == "stripe"
    assert "Card · Stripe" in client_for(tenant.finance).get("/staff/billing/payments/").content.decode()
    csv = b"".join(client_for(tenant.finance).get("/staff/billing/payments.csv").streaming_content).decode()
    header, row = csv.splitlines()[:2]
    assert header.split(",")[7:10] == ["method", "provider", "reference"]
    assert row.split(",")[7:10] == ["card", "stripe", payment.reference]
    assert api_for(tenant.finance).get(f"/api/v1/payments/{payment.pk}/").json()["provider"] == "stripe"


def test_a_replayed_webhook_records_nothing_twice(tenant, stripe_partner, stripe_fake) -> None:
    invoice = issued(tenant.customer)
    _checkout, event = _paid_checkout(stripe_fake, invoice)

    assert _deliver(stripe_partner, event).status_code == 200
    assert _deliver(stripe_partner, event).status_code == 200  # Stripe retries until it hears 2xx

    assert Payment.objects.count() == 1
    assert ProviderEvent.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("432.00")
    assert_ledger_consistent()


@pytest.mark.parametrize("forgery", ["wrong_secret", "stale", "tampered", "unsigned"])
def test_a_forged_webhook_is_refused_and_records_nothing(tenant, stripe_partner, stripe_fake, forgery) -> None:
    invoice = issued(tenant.customer)
    _checkout, event = _paid_checkout(stripe_fake, invoice)
    client = Client()
    url = f"/webhooks/stripe/{stripe_partner.slug}/"
    if forgery == "wrong_secret":
        answer = _deliver(stripe_partner, event, secret="whsec_someone_else")
    elif forgery == "stale":  # a captured delivery replayed after Stripe's five-minute tolerance
        answer = _deliver(stripe_partner, event, timestamp=int(time.time()) - 3600)
    elif forgery == "tampered":
        from tests.fakes.stripe import FakeStripe

        body, header = FakeStripe.sign(event, WEBHOOK_SECRET)
        body = body.replace(b'"amount_total": 43200', b'"amount_total": 99999900')
        answer = client.post(url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    else:
        answer = client.post(url, data=b"{}", content_type="application/json")

    assert answer.status_code == 400
    assert Payment.objects.count() == 0
    assert ProviderEvent.objects.count() == 0
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("432.00")


def test_a_webhook_for_a_partner_without_an_account_is_refused(tenant, other_tenant, stripe_partner, stripe_fake):
    invoice = issued(tenant.customer)
    _checkout, event = _paid_checkout(stripe_fake, invoice)
    assert _deliver(other_tenant.partner, event).status_code == 400
    assert Payment.objects.count() == 0


def test_a_refund_reopens_the_balance_and_is_recorded_once(tenant, stripe_partner, stripe_fake) -> None:
    invoice = issued(tenant.customer)
    checkout, event = _paid_checkout(stripe_fake, invoice)
    _deliver(stripe_partner, event)
    intent = event["data"]["object"]["payment_intent"]

    refund_event = stripe_fake.refund(intent, 10000)  # 100.00 given back in the Dashboard
    assert _deliver(stripe_partner, refund_event).status_code == 200
    assert _deliver(stripe_partner, refund_event).status_code == 200

    refund = Refund.objects.get()
    assert refund.amount == Decimal("100.00")
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (Decimal("100.00"), Invoice.Status.PARTIALLY_PAID)
    checkout.refresh_from_db()
    assert (checkout.amount_refunded, checkout.status) == (Decimal("100.00"), OnlineCheckout.Status.PAID)

    _deliver(stripe_partner, stripe_fake.refund(intent, 33200))  # the rest: amount_refunded is cumulative
    invoice.refresh_from_db()
    checkout.refresh_from_db()
    assert invoice.balance == Decimal("432.00")
    assert checkout.status == OnlineCheckout.Status.REFUNDED
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [Decimal("100.00"), Decimal("332.00")]
    assert_ledger_consistent()


def test_a_dispute_reopens_the_balance_and_flags_the_payment(tenant, stripe_partner, stripe_fake, client_for) -> None:
    invoice = issued(tenant.customer)
    checkout, event = _paid_checkout(stripe_fake, invoice)
    _deliver(stripe_partner, event)

    _deliver(stripe_partner, stripe_fake.dispute(event["data"]["object"]["payment_intent"], 43200))

    invoice.refresh_from_db()
    checkout.refresh_from_db()
    assert invoice.balance == Decimal("432.00")
    assert (checkout.disputed, checkout.status) == (True, OnlineCheckout.Status.DISPUTED)
    page = client_for(tenant.admin).get("/staff/billing/online-payments/")
    assert "data-disputed" in page.content.decode()
    assert_ledger_consistent()


def test_a_won_dispute_pays_the_invoice_again_once(tenant, stripe_partner, stripe_fake, client_for) -> None:
    invoice = issued(tenant.customer)
    checkout, event = _paid_checkout(stripe_fake, invoice)
    _deliver(stripe_partner, event)
    opened = stripe_fake.dispute(event["data"]["object"]["payment_intent"], 43200, reason="product_not_received")
    _deliver(stripe_partner, opened)
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("432.00")

    closed, reinstated = stripe_fake.dispute_won(opened["data"]["object"])
    assert _deliver(stripe_partner, closed).status_code == 200
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("432.00")  # closing moves no money: the reinstatement does
    assert _deliver(stripe_partner, reinstated).status_code == 200
    assert _deliver(stripe_partner, {**reinstated, "id": reinstated["id"] + "x"}).status_code == 200  # sent again

    invoice.refresh_from_db()
    checkout.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PAID, Decimal("0.00"))
    assert checkout.status == OnlineCheckout.Status.PAID
    dispute_id = opened["data"]["object"]["id"]
    again = Payment.objects.get(reference=dispute_id)
    assert (again.amount, again.method, again.unallocated) == (Decimal("432.00"), Payment.Method.CARD, Decimal("0.00"))
    assert AuditEvent.objects.get(action="payments.dispute_closed").data["status"] == "won"
    assert AuditEvent.objects.get(action="payments.dispute_won").data["payment"] == again.pk
    page = client_for(tenant.finance).get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert dispute_id in page
    assert_ledger_consistent()


def test_a_won_dispute_on_an_invoice_paid_meanwhile_becomes_credit(tenant, stripe_partner, stripe_fake) -> None:
    invoice = issued(tenant.customer)
    _checkout, event = _paid_checkout(stripe_fake, invoice)
    _deliver(stripe_partner, event)
    opened = stripe_fake.dispute(event["data"]["object"]["payment_intent"], 43200)
    _deliver(stripe_partner, opened)
    payment_record(partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=Decimal("432.00"),
                   received_on=clock.today(tenant.partner.time_zone), reference="wire")  # fmt: skip

    _deliver(stripe_partner, stripe_fake.dispute_won(opened["data"]["object"])[1])

    again = Payment.objects.get(reference=opened["data"]["object"]["id"])
    assert again.unallocated == Decimal("432.00")  # the invoice was paid by wire: the money is credit
    assert_ledger_consistent()


def test_an_expired_session_closes_the_checkout_without_a_payment(tenant, stripe_partner, stripe_fake) -> None:
    checkout = checkout_start_invoice(
        invoice=issued(tenant.customer), actor=None, success_url=RETURN, cancel_url=CANCEL
    )
    _deliver(stripe_partner, stripe_fake.session_expired(checkout.session_id))
    checkout.refresh_from_db()
    assert checkout.status == OnlineCheckout.Status.EXPIRED
    assert Payment.objects.count() == 0


def test_stripe_refusing_the_checkout_charges_nothing(tenant, stripe_partner, stripe_fake) -> None:
    stripe_fake.fail_next_create = True
    with pytest.raises(ProviderUnavailable):
        checkout_start_invoice(invoice=issued(tenant.customer), actor=None, success_url=RETURN, cancel_url=CANCEL)
    assert OnlineCheckout.objects.get().status == OnlineCheckout.Status.EXPIRED


def test_a_paid_invoice_cannot_be_checked_out(tenant, stripe_partner, stripe_fake) -> None:
    invoice = issued(tenant.customer)
    _c, event = _paid_checkout(stripe_fake, invoice)
    _deliver(stripe_partner, event)
    invoice.refresh_from_db()
    with pytest.raises(CheckoutRefused):
        checkout_start_invoice(invoice=invoice, actor=None, success_url=RETURN, cancel_url=CANCEL)


def test_a_suspended_customer_who_pays_is_asked_back_at_once(
    tenant, stripe_partner, stripe_fake, django_capture_on_commit_callbacks
) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice_due(tenant.customer, DUE, "100.00", sub)
    with clock.frozen(dt.datetime(2026, 12, 30, 7, 0, tzinfo=dt.UTC)):
        run_on(tenant.partner, 30)
    Subscription.objects.filter(pk=sub.pk).update(status=Subscription.Status.SUSPENDED)

    with clock.frozen(dt.datetime(2026, 12, 31, 9, 0, tzinfo=dt.UTC)):
        checkout = checkout_start_overdue(customer=tenant.customer, actor=None, success_url=RETURN, cancel_url=CANCEL)
        assert checkout.amount == Decimal("100.00")
        with django_capture_on_commit_callbacks(execute=True):
            _deliver(stripe_partner, stripe_fake.session_completed(checkout.session_id))

    # Asked in the same cycle, not at the next day's run (the record backend confirms it at once).
    change = SubscriptionChange.objects.get(subscription=sub, wanted_status="active")
    assert change.created_at.date() == dt.date(2026, 12, 31)
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE
    assert_ledger_consistent()


def test_secrets_are_stored_encrypted_and_never_shown(tenant, stripe_partner, client_for) -> None:
    account = PaymentProviderAccount.objects.get(partner=tenant.partner)
    assert SECRET_KEY not in account.secret_key_encrypted
    assert WEBHOOK_SECRET not in account.webhook_secret_encrypted
    page = client_for(tenant.admin).get("/staff/billing/online-payments/").content.decode()
    assert SECRET_KEY not in page
    assert WEBHOOK_SECRET not in page
    assert f"/webhooks/stripe/{tenant.partner.slug}/" in page
    event = AuditEvent.objects.get(action="payments.account_set")
    assert SECRET_KEY not in str(event.data)
    assert event.data["secret_key_changed"] is True
