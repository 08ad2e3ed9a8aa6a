"""Finance records a payment of an invoice, dated before the invoice was issued: the payment form
refuses on the date field with the reason and records nothing; with a sensible date it is recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from billing.invoicing.models import Invoice, Payment
from partner_portal import clock
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_payment_dated_before_the_invoice_is_refused_then_a_sensible_date_is_recorded(page: Page) -> None:
    tenant = make_tenant("Alpha")
    today = clock.today(tenant.partner.time_zone)
    issued_on = today - dt.timedelta(days=5)
    invoice = issued(tenant.customer, line("Microsoft 365 E3", "1", "258.00", "0"), on=issued_on)

    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/{invoice.pk}/")
    page.locator("main").get_by_role("link", name="Record payment").first.click()
    expect(page.locator("input[name=amount]")).to_have_value("258.00")
    expect(page.locator("input[name=allocation][value=invoice]")).to_be_checked()
    page.fill("input[name=received_on]", "1999-01-01")
    page.fill("input[name=reference]", "BACS 0042")
    page.get_by_role("button", name="Record payment").click()

    expect(page.locator("#id_received_on_error")).to_have_text(
        f"A payment of invoice {invoice.number} cannot be received before it was issued on {date_format(issued_on)}."
    )
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.ISSUED, 258)

    page.fill("input[name=received_on]", issued_on.isoformat())
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#id_received_on_error")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("BACS 0042")
    payment = Payment.objects.get()
    assert (payment.received_on, payment.amount, payment.reference) == (issued_on, 258, "BACS 0042")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PAID, 0)
