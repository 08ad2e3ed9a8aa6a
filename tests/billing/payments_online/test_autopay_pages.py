"""The "Card and autopay" panel with the demo provider: a customer admin saves a test card and turns
autopay on; the daily job charges through the demo, which sends itself the signed webhook; who may do
what, and that nobody reaches another customer's card."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.invoicing.models import Invoice, Payment
from billing.payments_online.models import AutopayAttempt, SavedCard
from billing.payments_online.services import autopay_run, payment_provider_account_set
from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.factories.billing import assert_ledger_consistent
from tests.factories.collections import DUE, invoice_due

pytestmark = pytest.mark.django_db
OPT_IN = dt.date(2026, 11, 1)


@pytest.fixture
def demo_partner(tenant, settings):
    settings.PAYMENTS_DEMO_PROVIDER = True
    payment_provider_account_set(partner=tenant.partner, actor=tenant.admin, provider="demo")
    return tenant.partner


def _save_demo_card(client, test_card: str = "4242") -> str:
    """Press "Save a card", pick the test card on the demo's page; the page the customer is sent back to."""
    started = client.post("/my/card/setup/")
    assert started.status_code == 303
    page = started["Location"]
    assert page.startswith("/pay/demo-card-setup/")
    assert f'data-test-card="{test_card}"' in client.get(page).content.decode()
    back = client.post(page, {"action": "save", "card": test_card})
    assert back.status_code == 302
    return back["Location"]


def test_a_customer_admin_saves_a_card_turns_autopay_on_and_the_invoice_is_paid_on_its_due_date(
    tenant, demo_partner, client_for
) -> None:
    client = client_for(tenant.customer_admin)
    assert "data-card-panel" in client.get("/my/").content.decode()

    home = client.get(_save_demo_card(client)).content.decode()
    assert "Visa •••• 4242" in home
    assert 'data-autopay="off"' in home
    card = SavedCard.objects.get(customer=tenant.customer)
    assert card.payment_method_id.startswith("pm_demo_4242_")
    with clock.frozen(OPT_IN):
        client.post("/my/card/autopay/", {"enabled": "on"})
    assert 'data-autopay="on"' in client.get("/my/").content.decode()
    staff_page = client_for(tenant.agent).get(f"/staff/billing/customers/{tenant.customer.pk}/").content.decode()
    assert 'data-autopay="on"' in staff_page

    invoice = invoice_due(tenant.customer, DUE, "250.00")
    with clock.frozen(DUE):
        assert autopay_run() == 1
        assert autopay_run() == 0

    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PAID, Decimal("0.00"))
    payment = Payment.objects.get()
    attempt = AutopayAttempt.objects.get()
    assert (payment.method, payment.reference, attempt.payment_id) == (
        Payment.Method.CARD,
        attempt.payment_intent_id,
        payment.pk,
    )
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "payments.card_saved",
        "payments.autopay_on",
        "payments.autopay_paid",
    }
    assert_ledger_consistent()


def test_the_declining_demo_card_is_saved_but_its_charge_fails_and_is_shown(tenant, demo_partner, client_for) -> None:
    client = client_for(tenant.customer_admin)
    _save_demo_card(client, "0341")
    with clock.frozen(OPT_IN):
        client.post("/my/card/autopay/", {"enabled": "on"})
    invoice = invoice_due(tenant.customer, DUE, "250.00")

    with clock.frozen(DUE):
        autopay_run()

    assert Payment.objects.count() == 0
    attempt = AutopayAttempt.objects.get()
    assert (attempt.status, attempt.failure_code) == (AutopayAttempt.Status.FAILED, "card_declined")
    home = client.get("/my/").content.decode()
    assert f'data-autopay-failed="{invoice.number}"' in home
    assert "Your card was declined." in home
    page = client_for(tenant.admin).get(f"/staff/billing/invoices/{invoice.pk}/").content.decode()
    assert 'data-autopay-attempt="failed"' in page


def test_removing_the_card_turns_autopay_off(tenant, demo_partner, client_for) -> None:
    client = client_for(tenant.customer_admin)
    _save_demo_card(client)
    client.post("/my/card/autopay/", {"enabled": "on"})

    client.post("/my/card/remove/")

    home = client.get("/my/").content.decode()
    assert "data-saved-card" not in home
    assert "•••• 4242" not in home
    card = SavedCard.objects.get(customer=tenant.customer)
    assert (card.payment_method_id, card.autopay) == ("", False)


def test_cancelling_on_the_demo_page_saves_nothing(tenant, demo_partner, client_for) -> None:
    client = client_for(tenant.customer_admin)
    page = client.post("/my/card/setup/")["Location"]
    client.post(page, {"action": "cancel"})
    assert not SavedCard.objects.exclude(payment_method_id="").exists()
    answer = client.post("/my/card/autopay/", {"enabled": "on"}, follow=True)
    assert "Save a card first" in answer.content.decode()
    assert SavedCard.objects.filter(autopay=True).count() == 0


@pytest.mark.parametrize("role", ["customer_member", "admin", "finance", "agent"])
def test_only_customer_admins_manage_the_card(tenant, demo_partner, client_for, role) -> None:
    admin = client_for(tenant.customer_admin)
    _save_demo_card(admin)
    user = getattr(tenant, role)
    client = client_for(user)

    for url, data in (("/my/card/setup/", {}), ("/my/card/autopay/", {"enabled": "on"}), ("/my/card/remove/", {})):
        assert client.post(url, data).status_code == 403
    card = SavedCard.objects.get(customer=tenant.customer)
    assert (card.autopay, card.last4) == (False, "4242")
    if role == "customer_member":
        assert "data-card-panel" not in client.get("/my/").content.decode()


def test_another_customers_admin_reaches_only_their_own_card(tenant, other_tenant, demo_partner, client_for) -> None:
    _save_demo_card(client_for(tenant.customer_admin))
    for intruder in (tenant.other_customer_admin, other_tenant.customer_admin):
        client = client_for(intruder)
        client.post("/my/card/autopay/", {"enabled": "on"})
        client.post("/my/card/remove/")
        home = client.get("/my/").content.decode()
        assert "4242" not in home
    card = SavedCard.objects.get(customer=tenant.customer)
    assert (card.autopay, card.last4) == (False, "4242")
    staff_page = client_for(other_tenant.admin).get(f"/staff/billing/customers/{tenant.customer.pk}/")
    assert staff_page.status_code == 404


def test_the_demo_card_page_needs_the_setup_id(tenant, demo_partner, client_for, settings) -> None:
    client = client_for(tenant.customer_admin)
    page = client.post("/my/card/setup/")["Location"]
    assert client.get("/pay/demo-card-setup/cs_demo_setup_forged/").status_code == 404
    settings.PAYMENTS_DEMO_PROVIDER = False
    assert client.get(page).status_code == 404
