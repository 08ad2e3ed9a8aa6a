"""The draft editor shows each line's amount and the invoice's totals as one types, rounded as the
server rounds them, and a row added in the browser can be removed again."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from billing.invoicing.models import Invoice
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories import CustomerFactory
from tests.factories.billing import draft, line

pytestmark = pytest.mark.django_db(transaction=True)


def _fill(row: Locator, description: str, quantity: str, price: str, tax: str) -> None:
    row.locator("input[name$='-description']").fill(description)
    row.locator("input[name$='-quantity']").fill(quantity)
    row.locator("input[name$='-unit_price']").fill(price)
    row.locator("input[name$='-tax_rate']").fill(tax)


def _expect_totals(page: Page, subtotal: str, tax: str, total: str) -> None:
    totals = page.locator("#invoice-line-totals")
    expect(totals.locator("[data-line-total=subtotal]")).to_have_text(f"{subtotal}\xa0USD")
    expect(totals.locator("[data-line-total=tax]")).to_have_text(f"{tax}\xa0USD")
    expect(totals.locator("[data-line-total=total]")).to_have_text(f"{total}\xa0USD")


def test_the_editor_works_out_amounts_as_one_types_and_removes_added_rows(page: Page, live_server) -> None:
    tenant = make_tenant("Alpha")
    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/new/?customer={tenant.customer.pk}")
    rows = page.locator("#invoice-lines [data-line-row]")
    expect(rows).to_have_count(3)
    expect(page.locator("[data-line-remove]")).to_have_count(0)  # the page's own rows have none

    _fill(rows.nth(0), "Seats", "3", "19.99", "20")  # tax 11.994 -> 11.99
    expect(rows.nth(0).locator("[data-line-amount]")).to_have_text("59.97\xa0USD")
    _expect_totals(page, "59.97", "11.99", "71.96")
    _fill(rows.nth(1), "Setup", "1", "1.005", "0")  # half-up: 1.01 (a float would make it 1.00)
    expect(rows.nth(1).locator("[data-line-amount]")).to_have_text("1.01\xa0USD")
    _expect_totals(page, "60.98", "11.99", "72.97")

    page.get_by_role("button", name="Add line").click()
    expect(rows).to_have_count(4)
    _fill(rows.nth(3), "Consulting", "2.5", "1333.333", "20")  # 3333.3325 -> 3,333.33; tax 666.666 -> 666.67
    expect(rows.nth(3).locator("[data-line-amount]")).to_have_text("3,333.33\xa0USD")
    _expect_totals(page, "3,394.31", "678.66", "4,072.97")

    rows.nth(3).get_by_role("button", name="Remove line").click()
    expect(rows).to_have_count(3)
    _expect_totals(page, "60.98", "11.99", "72.97")

    page.click("button[name=action][value=save]")
    expect(page.locator("h1")).to_contain_text(re.compile(r"Draft"))
    invoice = Invoice.objects.get(customer=tenant.customer)  # the server's figures are the browser's
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("60.98"),
        Decimal("11.99"),
        Decimal("72.97"),
    )
    assert sorted(invoice.lines.values_list("description", flat=True)) == ["Seats", "Setup"]


def test_a_draft_in_yen_is_worked_out_without_decimals(page: Page, live_server) -> None:
    tenant = make_tenant("Alpha")
    customer = CustomerFactory(partner=tenant.partner, currency="JPY")
    invoice = draft(customer, line("Seats", "7", "1234.5", "10"))  # 8641.5 -> 8642; tax 864.2 -> 864
    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/{invoice.pk}/edit/")
    row = page.locator("#invoice-lines [data-line-row]").first
    expect(row.locator("[data-line-amount]")).to_have_text("8,642\xa0JPY")
    totals = page.locator("#invoice-line-totals")
    expect(totals.locator("[data-line-total=total]")).to_have_text("9,506\xa0JPY")
    assert invoice.total == Decimal("9506")  # the server's figure, shown before any change
    row.locator("input[name$='-quantity']").fill("1")  # 1234.5 -> 1235; tax 123.5 -> 124
    expect(totals.locator("[data-line-total=subtotal]")).to_have_text("1,235\xa0JPY")
    expect(totals.locator("[data-line-total=tax]")).to_have_text("124\xa0JPY")


def test_a_new_invoice_follows_the_chosen_customers_currency(page: Page, live_server) -> None:
    tenant = make_tenant("Alpha")
    CustomerFactory(partner=tenant.partner, name="Yamato KK", domain="yamato.example", currency="JPY")
    sign_in(page, tenant.finance.email)
    page.goto("/staff/billing/invoices/new/")
    row = page.locator("#invoice-lines [data-line-row]").first
    _fill(row, "Seats", "1", "0.5", "0")
    expect(row.locator("[data-line-amount]")).to_have_text("0.50\xa0USD")  # the partner's currency until chosen
    box = page.get_by_role("combobox", name="Customer")
    box.fill("yama")
    page.get_by_role("listbox", name="Matching customers").get_by_role("option").first.click()
    expect(box).to_have_value("Yamato KK")
    expect(row.locator("[data-line-amount]")).to_have_text("1\xa0JPY")  # 0.5 rounds half-up to 1 yen
