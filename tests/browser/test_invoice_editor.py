"""The draft editor shows each line's amount and the invoice's totals as one types, rounded as the
server rounds them, a row added in the browser can be removed again, a line can be filled from a
subscription, the dates can be set by hand, and a draft can be discarded."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from billing.invoicing.models import Invoice
from tests.browser.conftest import sign_in
from tests.conftest import make_tenant
from tests.factories import CustomerFactory
from tests.factories.billing import draft, line
from tests.factories.subscriptions import SubscriptionFactory

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


def test_a_line_picked_from_a_subscription_and_overridden_dates_reach_the_issued_invoice(
    page: Page, live_server
) -> None:
    tenant = make_tenant("Alpha")
    seats = SubscriptionFactory(
        customer=tenant.customer, product="Microsoft 365 E5", quantity=12, unit_price=Decimal("54.75")
    )
    invoice = draft(tenant.customer, line("Placeholder", "1", "1.00", "0"))
    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/{invoice.pk}/edit/")
    row = page.locator("#invoice-lines [data-line-row]").first
    row.locator("[data-line-subscription]").select_option(str(seats.pk))
    expect(row.locator("input[name$='-description']")).to_have_value("Microsoft 365 E5")
    expect(row.locator("input[name$='-quantity']")).to_have_value("12")
    expect(row.locator("[data-line-amount]")).to_have_text("657.00\xa0USD")  # 12 × 54.75
    page.get_by_label("Issue date").fill("2026-11-02")
    page.get_by_label("Due date").fill("2026-12-17")
    page.click("button[name=action][value=save]")
    page.get_by_role("link", name="Issue invoice").click()  # the issue page names the draft's dates
    expect(page.locator("main")).to_contain_text("and Nov 2, 2026 as its issue date, as set on the draft.")
    expect(page.locator("main")).to_contain_text("It is due on Dec 17, 2026, as set on the draft.")
    page.get_by_role("button", name="Issue invoice").click()
    expect(page.locator("h1")).to_contain_text(re.compile(r"INV-"))

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    assert (invoice.issue_date, invoice.due_date) == (dt.date(2026, 11, 2), dt.date(2026, 12, 17))
    (only,) = invoice.lines.all()
    assert (only.subscription_id, only.description, only.amount) == (seats.pk, "Microsoft 365 E5", Decimal("657.00"))


def test_a_due_date_before_the_issue_date_is_refused_on_the_field_and_nothing_is_lost(page: Page, live_server) -> None:
    tenant = make_tenant("Alpha")
    invoice = draft(tenant.customer, line("Seats", "2", "10.00", "0"))
    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/{invoice.pk}/edit/")
    page.locator("#invoice-lines [data-line-row]").first.locator("input[name$='-description']").fill("Seats, renamed")
    page.get_by_label("Issue date").fill("2026-11-10")
    page.get_by_label("Due date").fill("2026-11-01")
    page.click("button[name=action][value=save]")
    expect(page.get_by_text("The due date cannot be before the issue date.")).to_be_visible()
    expect(page.locator("#invoice-lines input[name$='-description']").first).to_have_value("Seats, renamed")
    invoice.refresh_from_db()
    assert invoice.issue_date is None  # nothing saved
    assert invoice.lines.get().description == "Seats"


def test_a_draft_is_discarded_from_its_page(page: Page, live_server) -> None:
    tenant = make_tenant("Alpha")
    keep = draft(tenant.customer, line("Keep", "1", "5.00", "0"))
    gone = draft(tenant.customer, line("Discard me", "1", "5.00", "0"))
    sign_in(page, tenant.finance.email)
    page.goto(f"/staff/billing/invoices/{gone.pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())  # "Cancel" keeps the draft
    page.get_by_role("button", name="Delete draft").click()
    expect(page.get_by_role("button", name="Delete draft")).to_be_visible()
    assert Invoice.objects.filter(pk=gone.pk).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete draft").click()
    expect(page).to_have_url(re.compile(r"/staff/billing/invoices/(\?.*)?$"))
    assert list(Invoice.objects.values_list("pk", flat=True)) == [keep.pk]
