"""`manage.py seed_scale` at a small size: every invariant the portal keeps holds on the seeded rows, the
same seed gives the same data, and a re-run tops up instead of duplicating."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Max, Q, Sum

from billing.invoicing.models import Invoice, NumberSeries, Payment, PaymentAllocation
from partner_portal.models import AuditEvent, Customer, Partner
from subscriptions.models import Subscription
from tests.conftest import require
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def seed(**options: object) -> None:
    call_command("seed_scale", stdout=io.StringIO(), **options)


@pytest.fixture
def postgres() -> None:
    require(connection.vendor == "postgresql", "seed_scale writes PostgreSQL SQL")


def fingerprint(partner: Partner) -> list[tuple[object, ...]]:
    return list(
        Invoice.objects.filter(partner=partner)
        .order_by("number")
        .values_list("number", "customer__name", "status", "total", "balance", "due_date")
    )


def test_the_small_seed_keeps_every_invariant(postgres: None) -> None:
    seed(customers=200, seed=3, big_customer_invoices=40)
    partner = Partner.objects.get(slug="scale")
    customers = Customer.objects.filter(partner=partner)
    invoices = Invoice.objects.filter(partner=partner)
    assert customers.count() == 200
    assert Subscription.objects.filter(partner=partner).count() == 600
    assert invoices.count() == 200 * 10 + 40
    assert Ticket.objects.filter(partner=partner).count() == 400

    # Totals: subtotal + tax, and equal to the lines.
    assert not invoices.exclude(total=F("subtotal") + F("tax_total")).exists()
    sums = invoices.annotate(lines_amount=Sum("lines__amount"), lines_tax=Sum("lines__tax_amount"))
    assert not sums.exclude(subtotal=F("lines_amount"), tax_total=F("lines_tax")).exists()
    assert not invoices.filter(lines__isnull=True).exists()

    # Numbers: unique, gapless per year, and the series ends at the last one.
    for series in NumberSeries.objects.filter(partner=partner, kind="INV"):
        numbers = sorted(
            int(n.rsplit("-", 1)[1])
            for n in invoices.filter(number__startswith=f"INV-{series.year}-").values_list("number", flat=True)
        )
        assert numbers == list(range(1, series.last_number + 1))
    assert sum(NumberSeries.objects.filter(partner=partner).values_list("last_number", flat=True)) == invoices.count()

    # Allocations never exceed the invoice or the payment; balances follow.
    allocated = invoices.annotate(allocated=Sum("allocations__amount"))
    assert not allocated.exclude(Q(allocated=F("amount_paid")) | Q(allocated__isnull=True, amount_paid=0)).exists()
    assert not invoices.exclude(balance=F("total") - F("amount_paid") - F("amount_credited")).exists()
    payments = Payment.objects.filter(partner=partner).annotate(allocated=Sum("allocations__amount"))
    assert not payments.exclude(allocated=F("amount") - F("unallocated")).exists()
    assert (
        PaymentAllocation.objects.filter(partner=partner).exclude(payment__customer=F("invoice__customer")).count() == 0
    )

    # About 10 % open, some partly paid, over a spread of due dates; most paid.
    statuses = dict(invoices.values_list("status").annotate(n=Count("pk")))
    open_share = (statuses.get("issued", 0) + statuses.get("partially_paid", 0)) / invoices.count()
    assert 0.05 < open_share < 0.15
    assert statuses.get("partially_paid", 0) > 0
    assert statuses["paid"] > invoices.count() * 0.8
    assert invoices.filter(status="issued").values("due_date").distinct().count() >= 8

    # Suspended subscriptions by collections, tickets in every status, one customer's long history.
    assert Subscription.objects.filter(partner=partner, status="suspended", suspension_source="collections").exists()
    assert set(Ticket.objects.filter(partner=partner).values_list("status", flat=True)) == set(Ticket.Status.values)
    biggest = invoices.values("customer").annotate(n=Count("pk")).aggregate(m=Max("n"))["m"]
    assert biggest == 50
    assert AuditEvent.objects.filter(partner=partner, action="invoice.issued").count() == invoices.count()
    assert Decimal(0) < invoices.aggregate(t=Sum("total"))["t"]


def test_the_same_seed_gives_the_same_data_and_a_rerun_tops_up(postgres: None) -> None:
    seed(customers=50, seed=5, partner="first")
    seed(customers=50, seed=5, partner="second")
    first, second = Partner.objects.get(slug="first"), Partner.objects.get(slug="second")
    assert fingerprint(first) == fingerprint(second)

    seed(customers=50, seed=5, partner="first")  # nothing more
    assert Invoice.objects.filter(partner=first).count() == 500
    assert Customer.objects.filter(partner=first).count() == 50

    seed(customers=80, seed=5, partner="first")  # tops up: 30 new customers and their rows
    assert Customer.objects.filter(partner=first).count() == 80
    assert Invoice.objects.filter(partner=first).count() == 800
    assert Subscription.objects.filter(partner=first).count() == 240
    series = NumberSeries.objects.filter(partner=first, kind="INV")
    assert sum(s.last_number for s in series) == 800
    assert Invoice.objects.filter(partner=first).values("number").distinct().count() == 800


def test_many_partners_shape(postgres: None) -> None:
    seed(shape="many-partners", partners=3, customers_per_partner=10, partner="mp")
    partners = Partner.objects.filter(slug__startswith="mp-")
    assert partners.count() == 3
    assert all(Customer.objects.filter(partner=p).count() == 10 for p in partners)
    assert all(Invoice.objects.filter(partner=p).count() == 100 for p in partners)


def test_bad_sizes_are_refused(postgres: None) -> None:
    with pytest.raises(CommandError, match="cannot be negative"):
        seed(customers=-1)
