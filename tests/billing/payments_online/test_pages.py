"""The pages of online payments: Pay buttons, the return page, pay links without sign-in, the demo
provider's checkout, the settings page; and who may open them."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail, signing
from django.test import Client

from billing.invoicing.models import Invoice, Payment
from billing.invoicing.paylink import invoice_pay_url, pay_link_token
from billing.invoicing.services import invoice_send
from billing.payments_online.models import OnlineCheckout
from billing.payments_online.services import payment_provider_account_set
from billing.payments_online.services.webhooks import _apply
from partner_portal import clock
from tests.factories.billing import assert_ledger_consistent, issued

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_partner(tenant, settings):
    settings.PAYMENTS_DEMO_PROVIDER = True
    payment_provider_account_set(partner=tenant.partner, actor=tenant.admin, provider="demo")
    return tenant.partner


def _pay_through_demo(client: Client, start_url: str, action: str = "pay"):
    """Press Pay on the portal, then Pay (or Decline) on the demo checkout; the page it ends on."""
    started = client.post(start_url)
    assert started.status_code == 303
    checkout_page = started["Location"]
    assert client.get(checkout_page).status_code == 200
    back = client.post(checkout_page, {"action": action})
    assert back.status_code == 302
    return client.get(back["Location"])


def test_a_customer_pays_an_invoice_through_the_demo_provider(tenant, demo_partner, client_for) -> None:
    invoice = issued(tenant.customer)
    client = client_for(tenant.customer_member)
    home = client.get("/my/").content.decode()
    assert f'data-pay-invoice="{invoice.number}"' in home

    result = _pay_through_demo(client, f"/my/pay/invoices/{invoice.pk}/")

    assert 'data-outcome="paid"' in result.content.decode()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PAID, Decimal("0.00"))
    assert Payment.objects.get().method == Payment.Method.CARD
    assert_ledger_consistent()


def test_declining_the_card_charges_nothing_and_says_so(tenant, demo_partner, client_for) -> None:
    invoice = issued(tenant.customer)
    result = _pay_through_demo(client_for(tenant.customer_admin), f"/my/pay/invoices/{invoice.pk}/", "decline")
    assert 'data-outcome="not-paid"' in result.content.decode()
    assert Payment.objects.count() == 0
    assert OnlineCheckout.objects.get().status == OnlineCheckout.Status.EXPIRED


def test_the_overdue_balance_is_paid_in_one_checkout(tenant, demo_partner, client_for) -> None:
    old = issued(tenant.customer, on=dt.date(2026, 9, 1))
    older = issued(tenant.customer, on=dt.date(2026, 8, 1))
    current = issued(tenant.customer, on=clock.today())
    client = client_for(tenant.customer_admin)
    assert "data-pay-overdue" in client.get("/my/").content.decode()

    _pay_through_demo(client, "/my/pay/overdue/")

    for invoice in (old, older, current):
        invoice.refresh_from_db()
    assert (old.status, older.status, current.status) == (
        Invoice.Status.PAID,
        Invoice.Status.PAID,
        Invoice.Status.ISSUED,
    )
    assert_ledger_consistent()


def test_without_a_provider_there_is_no_pay_button_and_no_pay_link(tenant, client_for) -> None:
    invoice = issued(tenant.customer)
    assert "data-pay-invoice" not in client_for(tenant.customer_admin).get("/my/").content.decode()
    assert invoice_pay_url(invoice) == ""
    answer = client_for(tenant.customer_admin).post(f"/my/pay/invoices/{invoice.pk}/")
    assert answer.status_code == 302  # back to the page with a message; nothing started
    assert OnlineCheckout.objects.count() == 0


def test_a_customer_not_offered_card_payments_gets_no_pay_button_link_or_checkout(
    tenant, demo_partner, client_for, api_for
) -> None:
    invoice = issued(tenant.customer)
    client = client_for(tenant.customer_admin)
    assert "data-pay-invoice" in client.get("/my/").content.decode()  # offered by default
    token = pay_link_token(invoice)

    changed = api_for(tenant.finance).patch(
        f"/api/v1/customers/{tenant.customer.pk}/", {"card_payments": False}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    home = client.get("/my/").content.decode()
    assert "data-pay-invoice" not in home
    assert "Save a card" not in home
    assert invoice_pay_url(invoice) == ""  # no pay link in the invoice email or the notices
    assert "Card payments are not available for this invoice" in Client().get(f"/pay/{token}/").content.decode()
    refused = client.post(f"/my/pay/invoices/{invoice.pk}/", follow=True)
    assert "Card payments are not offered for this account" in refused.content.decode()
    assert OnlineCheckout.objects.count() == 0
    # The other customer of the partner still pays by card.
    other = issued(tenant.other_customer)
    assert invoice_pay_url(Invoice.objects.select_related("customer").get(pk=other.pk)) != ""


def test_the_invoice_email_carries_a_pay_link_that_works_without_signing_in(tenant, demo_partner) -> None:
    invoice = issued(tenant.customer)
    tenant.customer.billing_email = "ap@alpha.example"
    tenant.customer.save()
    invoice_send(invoice_id=invoice.pk)
    url = re.search(r"http://\S+/pay/\S+/", mail.outbox[-1].body).group(0)
    path = url.split("://", 1)[1].split("/", 1)[1]

    anonymous = Client()
    page = anonymous.get(f"/{path}")
    assert page.status_code == 200
    text = page.content.decode()
    assert invoice.number in text
    assert tenant.other_customer.name not in text  # only this invoice, nothing else of the partner

    result = _pay_through_demo(anonymous, f"/{path}")
    assert 'data-outcome="paid"' in result.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_an_expired_pay_link_is_refused(tenant, demo_partner, settings) -> None:
    invoice = issued(tenant.customer)
    settings.PAY_LINK_MAX_AGE_DAYS = 30
    link = pay_link_token(invoice)
    real_time = time.time
    # django.core.signing dates tokens on the system clock: 31 days on, the link has expired.
    with mock.patch.object(time, "time", return_value=real_time() + 31 * 86400):
        answer = Client().get(f"/pay/{link}/")
        posted = Client().post(f"/pay/{link}/")
    assert answer.status_code == 404
    assert "expired" in answer.content.decode()
    assert invoice.number not in answer.content.decode()
    assert posted.status_code == 404
    assert OnlineCheckout.objects.count() == 0


def test_a_pay_link_names_its_invoice_only(tenant, other_tenant, demo_partner) -> None:
    invoice = issued(tenant.customer)
    other = issued(tenant.other_customer)
    link = pay_link_token(invoice)
    # A token edited to name another invoice fails the signature.
    payload, rest = link.split(":", 1)
    forged = signing.dumps({"i": other.pk, "p": other.partner_id}, salt="not-the-pay-link-salt", compress=True)
    for token in (forged, f"{payload}x:{rest}", "x"):
        answer = Client().get(f"/pay/{token}/")
        assert answer.status_code == 404
        assert other.number not in answer.content.decode()
    assert Client().get(f"/pay/{link}/").status_code == 200


def test_a_customer_cannot_pay_or_see_another_customers_checkout(tenant, other_tenant, demo_partner, client_for):
    foreign_invoice = issued(other_tenant.customer)
    sibling_invoice = issued(tenant.other_customer)
    client = client_for(tenant.customer_admin)
    assert client.post(f"/my/pay/invoices/{foreign_invoice.pk}/").status_code == 404
    assert client.post(f"/my/pay/invoices/{sibling_invoice.pk}/").status_code == 404
    assert OnlineCheckout.objects.count() == 0

    client_for(tenant.other_customer_admin).post(f"/my/pay/invoices/{sibling_invoice.pk}/")
    checkout = OnlineCheckout.objects.get()
    assert client.get(f"/my/pay/return/?checkout={checkout.pk}").status_code == 404
    assert client_for(other_tenant.admin).get("/staff/billing/online-payments/").status_code == 200
    assert (
        tenant.other_customer.name
        not in client_for(other_tenant.admin).get("/staff/billing/online-payments/").content.decode()
    )


def test_only_partner_admins_change_the_provider(tenant, client_for) -> None:
    for user in (tenant.finance, tenant.agent, tenant.customer_admin):
        answer = client_for(user).post(
            "/staff/billing/online-payments/",
            {"provider": "stripe", "secret_key": "sk_test_x", "webhook_secret": "whsec_x"},
        )
        assert answer.status_code == 403
    assert OnlineCheckout.objects.count() == 0
    answer = client_for(tenant.admin).post(
        "/staff/billing/online-payments/",
        {"provider": "stripe", "secret_key": "pk_test_x", "webhook_secret": "whsec_x"},
    )
    assert answer.status_code == 400
    assert "sk_live_" in answer.content.decode()
    answer = client_for(tenant.admin).post(
        "/staff/billing/online-payments/",
        {"provider": "stripe", "secret_key": "sk_test_abcd1234", "webhook_secret": "whsec_x"},
    )
    assert answer.status_code == 302
    assert "…1234" in client_for(tenant.admin).get("/staff/billing/online-payments/").content.decode()


def test_the_settings_page_lists_every_event_the_webhook_handles(tenant, client_for) -> None:
    page = client_for(tenant.admin).get("/staff/billing/online-payments/").content.decode()
    listed = re.findall(r"<code data-webhook-event>([a-z_.]+)</code>", page)
    assert "charge.dispute.funds_reinstated" in listed
    assert "payment_intent.payment_failed" in listed
    # each one is acted on: none falls through to "ignored" for want of a handler
    for kind in listed:
        outcome, _checkout = _apply(tenant.partner, {"type": kind, "data": {"object": {}}}, None)
        assert outcome != "ignored", kind
