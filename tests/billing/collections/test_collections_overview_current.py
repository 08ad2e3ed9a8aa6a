"""The collections overview between two runs: after a payment, a credit note or a new invoice its
customers, their order and their figures are what the invoices say now, not what the last run saw."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from billing.collections.services import collections_run
from billing.invoicing.models import Invoice
from billing.invoicing.services import AllocationInput, credit_note_issue, payment_record
from partner_portal import clock
from subscriptions.models import Subscription
from tests.conftest import Tenant
from tests.factories import CustomerFactory
from tests.factories.collections import invoice_due, policy
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
OVERVIEW = "/staff/collections/"
LEAD = 3  # the default policy reminds 3 days before the due date


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with clock.frozen(TODAY):
        yield


def _days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def _direct(tenant: Tenant) -> dict[str, tuple[Decimal, int, int]]:
    """Who is in collections and what each owes, summed from the invoices: name -> (overdue amount,
    overdue invoices, days since the oldest overdue due date)."""
    owed = Invoice.objects.open().filter(
        partner=tenant.partner, balance__gt=0, due_date__lte=TODAY + dt.timedelta(days=LEAD)
    )
    figures: dict[str, tuple[Decimal, int, int]] = {}
    for name in sorted(set(owed.values_list("customer__name", flat=True))):
        overdue = [i for i in owed.filter(customer__name=name) if i.due_date < TODAY]
        oldest = min((i.due_date for i in overdue), default=None)
        figures[name] = (
            sum((i.balance for i in overdue), Decimal("0.00")),
            len(overdue),
            (TODAY - oldest).days if oldest else 0,
        )
    return figures


def _shown(client, sort: str = "-days") -> dict[str, tuple[Decimal, int, int]]:
    response = client.get(f"{OVERVIEW}?sort={sort}&currency=USD")
    assert response.status_code == 200
    return {
        r.customer.name: (r.customer.overdue_amount, r.customer.overdue_count, r.days_overdue)
        for r in response.context["rows"]
    }


def _order(client, sort: str) -> list[str]:
    return [r.customer.name for r in client.get(f"{OVERVIEW}?sort={sort}&currency=USD").context["rows"]]


def test_the_overview_shows_what_is_owed_now_after_payments_credit_notes_and_new_invoices(
    tenant: Tenant, client_for
) -> None:
    p = tenant.partner
    alpha = CustomerFactory(partner=p, name="Alpha Ltd")
    beta = CustomerFactory(partner=p, name="Beta Ltd")
    gamma = CustomerFactory(partner=p, name="Gamma Ltd")
    CustomerFactory(partner=p, name="Delta Ltd")  # owes nothing
    alpha_old = invoice_due(alpha, _days_ago(20), "500.00")
    invoice_due(alpha, _days_ago(5), "100.00")
    beta_only = invoice_due(beta, _days_ago(10), "300.00")
    invoice_due(gamma, _days_ago(2), "50.00")
    collections_run(partner=p, run_date=TODAY)
    client = client_for(tenant.finance)
    assert (
        _shown(client)
        == _direct(tenant)
        == {
            "Alpha Ltd": (Decimal("600.00"), 2, 20),
            "Beta Ltd": (Decimal("300.00"), 1, 10),
            "Gamma Ltd": (Decimal("50.00"), 1, 2),
        }
    )

    # A payment of Alpha's oldest invoice: its amount and days change at once, and so does its place.
    payment_record(
        partner=p, customer=alpha, actor=None, amount=Decimal("500.00"), received_on=TODAY,
        allocations=[AllocationInput(invoice=alpha_old, amount=Decimal("500.00"))],
    )  # fmt: skip
    # Beta's invoice credited in full: it owes nothing and leaves the list.
    credit_note_issue(invoice=beta_only, actor=None, reason="Billed twice", amount=Decimal("300.00"))
    # A new customer gets an invoice already 12 days overdue (issued late): it joins the list.
    invoice_due(CustomerFactory(partner=p, name="Epsilon Ltd"), _days_ago(12), "80.00")

    direct = _direct(tenant)
    assert direct == {
        "Alpha Ltd": (Decimal("100.00"), 1, 5),
        "Epsilon Ltd": (Decimal("80.00"), 1, 12),
        "Gamma Ltd": (Decimal("50.00"), 1, 2),
    }
    assert _shown(client) == direct  # before any run
    assert _order(client, "-days") == ["Epsilon Ltd", "Alpha Ltd", "Gamma Ltd"]
    assert _order(client, "-overdue") == ["Alpha Ltd", "Epsilon Ltd", "Gamma Ltd"]
    assert client.get(OVERVIEW).context["total"] == 3

    # The next run agrees with what the page showed.
    collections_run(partner=p, run_date=TODAY)
    assert _shown(client) == direct


@pytest.mark.parametrize("automatic", [True, False])
def test_a_customer_suspended_by_collections_stays_listed_after_paying_until_it_is_reactivated(
    tenant: Tenant, client_for, on_commit, automatic: bool
) -> None:
    p = tenant.partner
    policy(p, reactivate_automatically=automatic)
    cut_off = CustomerFactory(partner=p, name="Cut Off Ltd")
    subscription = SubscriptionFactory(customer=cut_off)
    invoice = invoice_due(cut_off, _days_ago(35), "900.00", subscription)
    invoice_due(CustomerFactory(partner=p, name="Late Ltd"), _days_ago(8), "80.00")
    with on_commit():
        collections_run(partner=p, run_date=TODAY)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.suspension_source) == (Subscription.Status.SUSPENDED, "collections")
    client = client_for(tenant.finance)

    payment_record(
        partner=p, customer=cut_off, actor=None, amount=Decimal("900.00"), received_on=TODAY,
        allocations=[AllocationInput(invoice=invoice, amount=Decimal("900.00"))],
    )  # fmt: skip
    # It owes nothing, but its subscription is still suspended: it stays on the list, awaiting reactivation.
    assert _shown(client) == {"Late Ltd": (Decimal("80.00"), 1, 8), "Cut Off Ltd": (Decimal("0.00"), 0, 0)}
    response = client.get(f"{OVERVIEW}?situation=suspended")
    assert [(r.customer.name, r.customer.suspended_count) for r in response.context["rows"]] == [("Cut Off Ltd", 1)]
    assert client.get(OVERVIEW).context["total"] == 2

    with on_commit():
        collections_run(partner=p, run_date=TODAY)
    subscription.refresh_from_db()
    if automatic:  # the run asked for the reactivation: nothing suspended any more, off the list
        assert subscription.status != Subscription.Status.SUSPENDED
        assert _shown(client) == {"Late Ltd": (Decimal("80.00"), 1, 8)}
    else:  # staff reactivate it: until then it stays listed, run after run
        assert subscription.status == Subscription.Status.SUSPENDED
        assert _shown(client) == {"Late Ltd": (Decimal("80.00"), 1, 8), "Cut Off Ltd": (Decimal("0.00"), 0, 0)}
        assert client.get(OVERVIEW).context["total"] == 2
