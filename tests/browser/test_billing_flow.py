"""Finance issues an invoice, the customer sees it and downloads its PDF; finance records a payment
and the customer sees the balance change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from billing.invoicing.models import Invoice
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_invoice_issue_customer_download_payment_and_balance(page: Page, browser: Browser, live_server) -> None:
    tenant = make_tenant("Alpha")
    page.on("dialog", lambda dialog: dialog.accept())  # the "Issue this invoice?" confirmation

    # Finance drafts and issues an invoice for the customer.
    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/new/?customer={tenant.customer.pk}")
    page.fill("input[name=lines-0-description]", "Microsoft 365 E3 — November 2026")
    page.fill("input[name=lines-0-quantity]", "10")
    page.fill("input[name=lines-0-unit_price]", "36.00")
    page.fill("input[name=lines-0-tax_rate]", "20")
    page.click("button[name=action][value=issue]")
    expect(page.locator("h1")).to_contain_text(re.compile(r"INV-\d{4}-000001"))
    invoice = Invoice.objects.get(customer=tenant.customer)
    assert (invoice.status, invoice.total) == (Invoice.Status.ISSUED, 432)

    # The customer signs in, sees the invoice and its balance, and downloads the PDF.
    customer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    sign_in(customer, tenant.customer_admin.email)
    main = customer.locator("main")
    expect(main).to_contain_text(invoice.number)
    expect(main).to_contain_text("432.00")
    with customer.expect_download() as download:
        customer.locator(f"a[href='/documents/invoices/{invoice.pk}.pdf']").first.click()
    assert download.value.suggested_filename == f"{invoice.number}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    # Finance records a partial payment against the invoice.
    page.goto(f"/staff/billing/payments/new/?customer={tenant.customer.pk}")
    page.fill("input[name=amount]", "132.00")
    page.fill("input[name=reference]", "BACS 0042")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main")).to_contain_text("132.00")
    invoice.refresh_from_db()
    assert (invoice.status, str(invoice.balance)) == (Invoice.Status.PARTIALLY_PAID, "300.00")

    # The customer reloads and sees the new balance.
    customer.reload()
    expect(main).to_contain_text("300.00")
    expect(main).to_contain_text("Partially paid")
    customer.context.close()
