"""Finance finds a payment in the list, opens it, voids it with a reason and sees the invoice it paid
open again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from billing.invoicing.models import Invoice
from billing.invoicing.services import payment_record
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories.billing import issued, line

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_voids_a_payment_and_sees_the_invoice_open_again(page: Page, live_server) -> None:
    tenant = make_tenant("Alpha")
    invoice = issued(tenant.customer, line("Microsoft 365 E3", "1", "250.00", "0"), on=dt.date(2026, 11, 2))
    payment = payment_record(
        partner=tenant.partner, customer=tenant.customer, actor=tenant.finance, amount=Decimal("250.00"),
        received_on=dt.date(2026, 11, 5), reference="BACS 0042",
    )  # fmt: skip
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID

    sign_in(page, tenant.finance.email)
    page.goto("/staff/billing/payments/")
    page.locator(f"main a[href='/staff/billing/payments/{payment.pk}/']").first.click()
    expect(page.locator("h1")).to_contain_text("Payment of")
    page.get_by_role("link", name="Void payment").click()
    expect(page.locator("main")).to_contain_text(invoice.number)  # which invoice opens again
    page.fill("textarea[name=reason]", "Transfer returned by the bank")
    page.locator("main form button[type=submit]").click()

    main = page.locator("main")
    expect(main).to_contain_text("The payment is void; the invoices it paid are open again.")
    expect(main).to_contain_text("Transfer returned by the bank")
    expect(page.locator("h1")).to_contain_text("Voided")
    # Through the reversed allocation to the invoice: open again, its whole total due.
    page.locator(f"main a[href='/staff/billing/invoices/{invoice.pk}/']").first.click()
    expect(page.locator("h1")).to_contain_text("Issued")
    expect(page.locator(".balance-value")).to_contain_text("250.00")
