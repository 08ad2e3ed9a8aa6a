"""Finance filters the invoice list to open invoices and finds the partly paid one among them; from
the finance page, an aging amount opens the invoice list filtered to that bucket and currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from billing.invoicing.models import Invoice
from billing.invoicing.services import AllocationInput, invoice_void, payment_record
from partner_portal import clock
from tests.browser.conftest import sign_in
from tests.conftest import Tenant, make_tenant
from tests.factories import CustomerFactory
from tests.factories.billing import draft, issued, line

pytestmark = pytest.mark.django_db(transaction=True)


def _book(tenant: Tenant) -> dict[str, Invoice]:
    """Invoices of customers with 30 days' credit, issued some days before today."""
    today = clock.today(tenant.partner.time_zone)
    usd = CustomerFactory(partner=tenant.partner, name="Dollar Inc", currency="USD", credit_days=30)
    eur = CustomerFactory(partner=tenant.partner, name="Euro GmbH", currency="EUR", credit_days=30)

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    made = {
        "current": issued(usd, line("a", "1", "100.00", "0"), on=ago(10)),  # due in 20 days
        "age_10": issued(usd, line("b", "1", "200.00", "0"), on=ago(40)),  # 10 days overdue
        "age_45": issued(usd, line("c", "1", "300.00", "0"), on=ago(75)),  # 45 days overdue
        "partly": issued(usd, line("d", "1", "400.00", "0"), on=ago(76)),  # 46 days overdue, 100 paid
        "paid": issued(usd, line("e", "1", "50.00", "0"), on=ago(10)),
        "void": issued(usd, line("f", "1", "60.00", "0"), on=ago(10)),
        "eur_big": issued(eur, line("g", "1", "9000.00", "0"), on=ago(10)),
        "draft": draft(usd, line("h", "1", "70.00", "0")),
    }
    for key, amount in (("paid", Decimal("50.00")), ("partly", Decimal("100.00"))):
        payment_record(
            partner=tenant.partner, customer=usd, actor=None, amount=amount, received_on=today,
            allocations=[AllocationInput(invoice=made[key], amount=amount)],
        )  # fmt: skip
    invoice_void(invoice=made["void"], actor=None, reason="Issued twice")
    return {key: Invoice.objects.get(pk=invoice.pk) for key, invoice in made.items()}


def _expect_listed(page: Page, invoices: list[Invoice]) -> None:
    rows = page.locator("table.table-invoices tbody tr")
    expect(rows).to_have_count(len(invoices))
    for invoice in invoices:
        if invoice.number:  # a draft has none yet
            expect(rows.filter(has_text=invoice.number)).to_have_count(1)


def test_open_includes_partly_paid_and_an_aging_amount_opens_its_bucket(page: Page) -> None:
    tenant = make_tenant("Alpha")
    book = _book(tenant)
    assert book["partly"].status == Invoice.Status.PARTIALLY_PAID

    sign_in(page, tenant.finance.email)
    page.goto("/staff/billing/invoices/")
    _expect_listed(page, list(book.values()))
    page.get_by_label("Status").select_option(label="Open: issued or partly paid")
    page.get_by_role("button", name="Apply").click()
    _expect_listed(page, [book[key] for key in ("current", "age_10", "age_45", "partly", "eur_big")])
    partly = page.locator("table.table-invoices tbody tr", has_text=book["partly"].number)
    expect(partly).to_contain_text("Partially paid")

    # On the finance page, the 31–60 days overdue amount in USD: 300.00 + 300.00 still owed.
    page.goto("/staff/billing/")
    bucket = page.locator("table.table-aging tbody tr", has_text="31–60 days overdue")
    link = bucket.get_by_role("link", name="600.00")
    expect(link).to_have_count(1)
    link.click()
    expect(page).to_have_url("/staff/billing/invoices/?age=31_60&currency=USD&sort=-balance")
    expect(page.get_by_label("Days past due")).to_have_value("31_60")
    expect(page.get_by_label("Currency")).to_have_value("USD")
    _expect_listed(page, [book["age_45"], book["partly"]])
