"""The invoice list's open, currency and age filters, money sorts that never mix currencies, and the
finance page's aging buckets that open their invoices."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from billing.invoicing.models import Invoice
from billing.invoicing.services import AllocationInput, invoice_void, payment_record
from partner_portal import clock
from tests.conftest import Tenant
from tests.factories import CustomerFactory
from tests.factories.billing import draft, issued, line

pytestmark = pytest.mark.django_db
LIST = "/staff/billing/invoices/"
TODAY = dt.date(2026, 12, 5)


def _numbers(html: bytes) -> list[str]:
    return re.findall(r'<a[^>]* href="/staff/billing/invoices/\d+/"[^>]*>([^<]+)</a>', html.decode())


@pytest.fixture
def book(tenant: Tenant) -> dict[str, Invoice]:
    """Invoices of customers with 30 days' credit, seen on 5 December 2026."""
    usd = CustomerFactory(partner=tenant.partner, name="Dollar Inc", currency="USD", credit_days=30)
    eur = CustomerFactory(partner=tenant.partner, name="Euro GmbH", currency="EUR", credit_days=30)
    made = {
        "current": issued(usd, line("a", "1", "100.00", "0"), on=dt.date(2026, 11, 20)),  # due 20 Dec
        "age_10": issued(usd, line("b", "1", "200.00", "0"), on=dt.date(2026, 10, 26)),  # due 25 Nov
        "age_45": issued(usd, line("c", "1", "300.00", "0"), on=dt.date(2026, 9, 21)),  # due 21 Oct
        "partly": issued(usd, line("d", "1", "400.00", "0"), on=dt.date(2026, 9, 20)),  # due 20 Oct
        "paid": issued(usd, line("e", "1", "50.00", "0"), on=dt.date(2026, 11, 1)),
        "void": issued(usd, line("f", "1", "60.00", "0"), on=dt.date(2026, 11, 1)),
        "eur_big": issued(eur, line("g", "1", "9000.00", "0"), on=dt.date(2026, 11, 20)),
        "draft": draft(usd, line("h", "1", "70.00", "0")),
    }
    for key, amount in (("paid", Decimal("50.00")), ("partly", Decimal("100.00"))):
        payment_record(
            partner=tenant.partner, customer=usd, actor=None, amount=amount, received_on=dt.date(2026, 11, 25),
            allocations=[AllocationInput(invoice=made[key], amount=amount)],
        )  # fmt: skip
    invoice_void(invoice=made["void"], actor=None, reason="Issued twice")
    return {key: Invoice.objects.get(pk=invoice.pk) for key, invoice in made.items()}


def _listed(client, query: str) -> set[str]:
    with clock.frozen(TODAY):
        return set(_numbers(client.get(f"{LIST}?{query}").content))


def test_open_means_issued_or_partly_paid(tenant: Tenant, book, client_for) -> None:
    listed = _listed(client_for(tenant.finance), "status=open")
    expected = {book[k].number for k in ("current", "age_10", "age_45", "partly", "eur_big")}
    assert listed == expected


def test_age_and_currency_filters(tenant: Tenant, book, client_for) -> None:
    client = client_for(tenant.finance)
    assert _listed(client, "age=1_30") == {book["age_10"].number}
    assert _listed(client, "age=31_60") == {book["age_45"].number, book["partly"].number}
    assert _listed(client, "age=current&currency=EUR") == {book["eur_big"].number}
    assert _listed(client, "age=current&currency=USD") == {book["current"].number}
    assert _listed(client, "age=90_plus") == set()


def test_money_sorts_never_mix_currencies(tenant: Tenant, book, client_for) -> None:
    client = client_for(tenant.finance)
    with clock.frozen(TODAY):
        response = client.get(f"{LIST}?sort=-total")
    numbers = _numbers(response.content)
    assert book["eur_big"].number not in numbers  # 9,000 EUR is not "larger" than 400 USD
    assert numbers[0] == book["partly"].number
    assert response.context["form"]["currency"].value() == "USD"  # shown, and can be changed
    with clock.frozen(TODAY):
        assert _numbers(client.get(f"{LIST}?sort=-total&currency=EUR").content) == [book["eur_big"].number]


def test_each_aging_amount_opens_its_invoices(tenant: Tenant, book, client_for) -> None:
    client = client_for(tenant.finance)
    with clock.frozen(TODAY):
        html = client.get("/staff/billing/").content.decode()
    link = "/staff/billing/invoices/?age=31_60&amp;currency=USD&amp;sort=-balance"
    assert f'href="{link}"' in html
    assert _listed(client, link.split("?")[1].replace("&amp;", "&")) == {book["age_45"].number, book["partly"].number}
