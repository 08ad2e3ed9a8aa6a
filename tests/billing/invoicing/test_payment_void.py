"""Voiding a payment: a reason, allocations reversed and kept, invoices open again, credit gone,
collections asked to look again; the same through the page and the API; voided payments shown as
such and left out of the money collected."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from billing.collections.models import CollectionRun
from billing.finance.selectors import payments_collected
from billing.invoicing.errors import PaymentCorrectionInvalid
from billing.invoicing.models import Invoice, Payment, PaymentAllocation
from billing.invoicing.services import AllocationInput, payment_record, payment_void
from partner_portal import clock
from partner_portal.models import AuditEvent
from partner_portal.tenancy import scope_for_user
from tests.conftest import Tenant
from tests.factories.billing import assert_ledger_consistent, issued, line

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen(TODAY):
        yield


def pay(tenant: Tenant, amount: str, allocations=None, reference: str = "BACS 7781") -> Payment:
    return payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=Decimal(amount),
        received_on=dt.date(2026, 11, 5), reference=reference, allocations=allocations,
    )  # fmt: skip


def fresh(obj):
    obj.refresh_from_db()
    return obj


def test_voiding_reopens_the_invoices_it_paid_and_keeps_the_allocations_as_history(tenant: Tenant) -> None:
    october = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    november = issued(tenant.customer, line("Nov", "1", "100.01", "0"), on=dt.date(2026, 11, 1))
    payment = pay(tenant, "150.00")  # pays October in full, 50.00 of November
    other = pay(tenant, "30.00", [AllocationInput(invoice=november, amount=Decimal("30.00"))], reference="BACS 2")
    assert (fresh(october).status, fresh(november).balance) == (Invoice.Status.PAID, Decimal("20.01"))

    payment_void(payment=payment, actor=tenant.finance, reason="  Transfer returned by the bank ")

    october, november, payment = fresh(october), fresh(november), fresh(payment)
    assert (october.status, october.amount_paid, october.balance) == (
        Invoice.Status.ISSUED, Decimal("0.00"), Decimal("100.00"),
    )  # fmt: skip
    assert (november.status, november.amount_paid, november.balance) == (
        Invoice.Status.PARTIALLY_PAID, Decimal("30.00"), Decimal("70.01"),
    )  # fmt: skip
    assert (payment.is_voided, payment.void_reason, payment.voided_by, payment.unallocated) == (
        True, "Transfer returned by the bank", tenant.finance, Decimal("0.00"),
    )  # fmt: skip
    kept = PaymentAllocation.objects.filter(payment=payment).order_by("invoice_id")
    assert [(a.amount, a.is_reversed) for a in kept] == [(Decimal("100.00"), True), (Decimal("50.00"), True)]
    assert not fresh(other).is_voided
    assert PaymentAllocation.objects.get(payment=other).reversed_at is None
    event = AuditEvent.objects.get(action="payment.voided")
    assert event.data == {
        "amount": "150.00", "reference": "BACS 7781", "reason": "Transfer returned by the bank",
        "reopened": {october.number: "100.00", november.number: "50.00"},
    }  # fmt: skip
    assert event.actor == tenant.finance
    assert_ledger_consistent()


def test_the_credit_a_voided_payment_left_and_the_credit_an_invoice_used_are_taken_back(tenant: Tenant) -> None:
    payment = pay(tenant, "80.00")  # nothing open: all of it is credit
    later = issued(tenant.customer, line("Dec", "1", "50.00", "0"), on=dt.date(2026, 11, 10))  # uses 50.00 of it
    assert (fresh(later).status, fresh(payment).unallocated) == (Invoice.Status.PAID, Decimal("30.00"))
    payment_void(payment=payment, actor=tenant.finance, reason="Duplicate entry")
    assert (fresh(later).status, fresh(later).balance) == (Invoice.Status.ISSUED, Decimal("50.00"))
    assert fresh(payment).unallocated == Decimal("0.00")
    assert_ledger_consistent()


def test_a_reason_is_required_and_a_second_void_changes_nothing(tenant: Tenant) -> None:
    issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    payment = pay(tenant, "100.00")
    with pytest.raises(PaymentCorrectionInvalid) as refused:
        payment_void(payment=payment, actor=tenant.finance, reason="   ")
    assert refused.value.fields == {"reason": ["Give a reason for voiding the payment."]}
    assert not fresh(payment).is_voided
    payment_void(payment=payment, actor=tenant.finance, reason="Bounced")
    first = fresh(payment).voided_at
    payment_void(payment=payment, actor=tenant.admin, reason="Again")
    assert (fresh(payment).voided_at, fresh(payment).void_reason) == (first, "Bounced")
    assert AuditEvent.objects.filter(action="payment.voided").count() == 1


def test_collections_look_at_the_customer_again_after_commit(tenant: Tenant, on_commit) -> None:
    issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    payment = pay(tenant, "100.00")
    with on_commit():
        payment_void(payment=payment, actor=tenant.finance, reason="Bounced")
    run = CollectionRun.objects.get(partner=tenant.partner)
    assert (run.status, run.run_date, run.triggered_by, run.actor) == ("done", TODAY, "page", tenant.finance)
    # The reopened invoice is 20 days overdue: the run sends its step (the +14 reminder) as it would any day.
    assert run.details["notices_queued"] == 1


def test_a_voided_payment_is_not_money_collected(tenant: Tenant) -> None:
    pay(tenant, "40.00")
    voided = pay(tenant, "60.00")
    payment_void(payment=voided, actor=tenant.finance, reason="Bounced")
    collected = payments_collected(scope=scope_for_user(tenant.finance))
    assert [(c.currency, c.this_month) for c in collected.by_currency] == [("USD", Decimal("40.00"))]


# ---- Pages -------------------------------------------------------------------------------------------


def test_the_payment_page_shows_the_payment_its_allocations_and_history(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    payment = pay(tenant, "120.00")
    listing = client_for(tenant.agent).get("/staff/billing/payments/")
    assert f'href="/staff/billing/payments/{payment.pk}/"'.encode() in listing.content
    page = client_for(tenant.agent).get(f"/staff/billing/payments/{payment.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert invoice.number in html
    assert "BACS 7781" in html
    assert "Payment recorded" in html
    assert "20.00" in html  # the credit left
    assert "Void payment" not in html  # agents read only


def test_finance_voids_a_payment_from_its_page_and_the_invoice_is_open_again(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    payment = pay(tenant, "100.00")
    client = client_for(tenant.finance)
    assert "Void payment" in client.get(f"/staff/billing/payments/{payment.pk}/").content.decode()
    form = client.get(f"/staff/billing/payments/{payment.pk}/void/")
    assert invoice.number in form.content.decode()
    refused = client.post(f"/staff/billing/payments/{payment.pk}/void/", {"reason": ""})
    assert refused.status_code == 400
    assert not fresh(payment).is_voided
    done = client.post(f"/staff/billing/payments/{payment.pk}/void/", {"reason": "Bounced"}, follow=True)
    html = done.content.decode()
    assert "Voided on" in html
    assert "Bounced" in html
    assert "Payment voided" in html
    assert fresh(invoice).status == Invoice.Status.ISSUED
    listing = client.get("/staff/billing/payments/").content.decode()
    assert "Voided" in listing
    csv = client.get("/staff/billing/payments.csv")
    rows = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert rows[0].startswith("id,status,")
    assert ",voided," in rows[1]
    assert f"{invoice.number}=" not in rows[1]  # the reversed allocation pays nothing


def test_agents_cannot_void_and_another_partner_does_not_find_the_payment(
    tenant: Tenant, other_tenant: Tenant, client_for
) -> None:
    payment = pay(tenant, "100.00")
    assert (
        client_for(tenant.agent).post(f"/staff/billing/payments/{payment.pk}/void/", {"reason": "x"}).status_code == 403
    )
    assert client_for(other_tenant.finance).get(f"/staff/billing/payments/{payment.pk}/").status_code == 404
    assert not fresh(payment).is_voided


# ---- API ---------------------------------------------------------------------------------------------


def test_the_api_voids_with_a_reason_and_says_which_field_is_missing(tenant: Tenant, other_tenant, api_for) -> None:
    invoice = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    payment = pay(tenant, "100.00")
    url = f"/api/v1/payments/{payment.pk}/void/"
    missing = api_for(tenant.finance).post(url, {}, format="json")
    assert missing.status_code == 400
    assert "reason" in missing.json()["fields"]
    assert api_for(tenant.agent).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api_for(other_tenant.finance).post(url, {"reason": "x"}, format="json").status_code == 404
    done = api_for(tenant.finance).post(url, {"reason": "Bounced"}, format="json")
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["void_reason"] == "Bounced"
    assert body["voided_at"]
    assert body["unallocated"] == "0.00"
    assert body["allocations"][0]["reversed_at"] is not None
    assert fresh(invoice).status == Invoice.Status.ISSUED


def test_the_void_and_refund_pages_show_the_payment_and_what_voiding_reopens(tenant: Tenant, client_for) -> None:
    invoice = issued(tenant.customer, line("Oct", "1", "100.00", "0"), on=dt.date(2026, 10, 1))
    payment = pay(tenant, "130.00", [AllocationInput(invoice=invoice, amount=Decimal("100.00"))])
    void_page = client_for(tenant.finance).get(f"/staff/billing/payments/{payment.pk}/void/").content.decode()
    refund_page = client_for(tenant.finance).get(f"/staff/billing/payments/{payment.pk}/refund/").content.decode()
    assert "<h1>Void payment</h1>" in void_page
    assert f"{invoice.number} (" in void_page
    assert "<h1>Refund</h1>" in refund_page
    assert "Credit left" in refund_page
    assert "30.00" in refund_page
    for page in (void_page, refund_page):
        assert tenant.customer.name in page
        assert f'href="/staff/billing/payments/{payment.pk}/"' in page
