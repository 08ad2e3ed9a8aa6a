"""A run looks only at the customers with something to decide (CustomerDunning.recheck_on), and still
acts exactly as a run over every customer would: day after day, through payments, a hold and its end,
policy changes, a new invoice, a credit note, a voided payment and an exemption."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from billing.collections.models import CustomerCollections, CustomerDunning, InvoiceDunning, Notice
from billing.collections.services import customer_collections_hold
from billing.collections.services import run as collections_service
from billing.invoicing.models import Invoice, Payment
from billing.invoicing.services import credit_note_issue, payment_record, payment_void
from partner_portal import clock
from partner_portal.models import Customer, Partner
from partner_portal.services import customer_update
from subscriptions.models import Subscription
from tests.conftest import Tenant, require
from tests.factories import CustomerFactory
from tests.factories.collections import DUE, invoice_due, policy, run_on
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db

# Each customer's invoices: (days from DUE to the due date, amount).
INVOICES: list[list[tuple[int, str]]] = [
    [(-5, "100.00"), (20, "60.00")],
    [(0, "100.00"), (3, "50.00")],
    [(-20, "5.00"), (-2, "100.00")],  # the first alone is below the minimum
    [(10, "80.00")],
    [(-35, "120.00")],
    [(40, "90.00")],  # out of the policy's reach at first
]


def _seed(partner: Partner) -> list[Customer]:
    customers = []
    for rows in INVOICES:
        customer = CustomerFactory(partner=partner)
        subscription = SubscriptionFactory(customer=customer)
        for days, amount in rows:
            invoice_due(customer, DUE + dt.timedelta(days=days), amount, subscription)
        customers.append(customer)
    return customers


def _events(tenant: Tenant, customers: list[Customer]) -> dict[int, Callable[[dt.date], Any]]:
    """What happens on a day (days from DUE), before that day's run."""
    partner, admin = tenant.partner, tenant.admin

    def pay(customer: Customer, amount: str) -> Callable[[dt.date], Any]:
        return lambda day: payment_record(
            partner=partner, customer=customer, actor=admin, amount=Decimal(amount), received_on=day
        )

    def open_invoice(customer: Customer, index: int = -1) -> Invoice:
        return Invoice.objects.filter(customer=customer).order_by("due_date", "pk")[index % 2]

    return {
        2: pay(customers[1], "40.00"),
        8: lambda day: customer_collections_hold(
            customer=customers[0], actor=admin, until=day + dt.timedelta(days=4), reason="Transfer on its way"
        ),
        12: lambda day: policy(partner, grace_days=3),
        15: lambda day: invoice_due(customers[3], day + dt.timedelta(days=5), "70.00"),
        18: lambda day: credit_note_issue(
            invoice=open_invoice(customers[2]),
            actor=admin,
            reason="Goodwill",
            amount=open_invoice(customers[2]).balance,
        ),
        22: lambda day: customer_update(customer=customers[4], actor=admin, changes={"collections_exempt": True}),
        26: lambda day: payment_void(
            payment=Payment.objects.get(customer=customers[1]), actor=admin, reason="Transfer bounced"
        ),
        30: pay(customers[4], "120.00"),
        33: lambda day: policy(partner, min_amount=Decimal("150.00")),
    }


def _state(partner: Partner) -> dict[str, Any]:
    """Everything the runs decided, with customers and invoices by their place (the partners' ids differ)."""
    customers = {
        pk: n
        for n, pk in enumerate(Customer.objects.filter(partner=partner).order_by("pk").values_list("pk", flat=True))
    }
    invoices = {
        pk: (customers[c], n)
        for n, (pk, c) in enumerate(Invoice.objects.filter(partner=partner).order_by("customer_id", "pk").values_list("pk", "customer_id"))
    }  # fmt: skip
    return {
        "notices": sorted(
            (invoices[i], offset, action, str(amount), str(total), run_date, next_action, next_on)
            for i, offset, action, amount, total, run_date, next_action, next_on in Notice.objects.filter(
                partner=partner
            ).values_list(
                "invoice_id",
                "offset_days",
                "action",
                "amount_due",
                "overdue_total",
                "run__run_date",
                "next_action",
                "next_action_date",
            )
        ),
        "invoices": sorted(
            (invoices[i], harshest, final_on)
            for i, harshest, final_on in InvoiceDunning.objects.filter(partner=partner).values_list(
                "invoice_id", "harshest", "final_notice_on"
            )
        ),
        "suspended": sorted(
            customers[c]
            for c in CustomerDunning.objects.filter(partner=partner, suspended=True).values_list(
                "customer_id", flat=True
            )
        ),
        "subscriptions": sorted(
            (customers[c], status, source)
            for c, status, source in Subscription.objects.filter(partner=partner).values_list(
                "customer_id", "status", "suspension_source"
            )
        ),
        "summaries": sorted(
            (customers[c], str(total), by_currency, count, oldest, step, next_on)
            for c, total, by_currency, count, oldest, step, next_on in CustomerCollections.objects.filter(
                partner=partner
            ).values_list(
                "customer_id",
                "overdue_total",
                "overdue_by_currency",
                "overdue_count",
                "oldest_overdue",
                "step",
                "next_action_on",
            )
        ),
    }


def test_day_by_day_the_run_of_due_customers_acts_as_a_run_over_every_customer(
    tenant, other_tenant, monkeypatch
) -> None:
    require(connection.vendor == "postgresql", "the recheck day is kept by the PostgreSQL batch statement")
    incremental, full = tenant, other_tenant
    seeded = {t.partner.pk: _seed(t.partner) for t in (incremental, full)}
    events = {t.partner.pk: _events(t, seeded[t.partner.pk]) for t in (incremental, full)}
    looked_at: dict[int, list[int]] = {incremental.partner.pk: [], full.partner.pk: []}
    due_customers = collections_service.due_customers

    def due(*, partner: Partner, **kwargs: Any) -> list[int]:
        ids = due_customers(partner=partner, **kwargs)
        if partner.pk == full.partner.pk:  # the full scan: every customer, every day
            ids = list(Customer.objects.filter(partner=partner).order_by("pk").values_list("pk", flat=True))
        looked_at[partner.pk].append(len(ids))
        return ids

    monkeypatch.setattr(collections_service, "due_customers", due)
    for offset in range(-5, 50):
        day = DUE + dt.timedelta(days=offset)
        with clock.frozen(day):
            for t in (incremental, full):
                if offset in events[t.partner.pk]:
                    events[t.partner.pk][offset](day)
                assert run_on(t.partner, day).status == "done"
        assert _state(incremental.partner) == _state(full.partner), f"differ after the run of {day}"
    assert Notice.objects.filter(partner=incremental.partner).count() > 15
    assert Subscription.objects.filter(partner=incremental.partner, suspension_source="collections").exists()
    # The full scan looked at 8 customers on each of the 55 days; the runs of due customers far fewer.
    assert sum(looked_at[full.partner.pk]) == 8 * 55
    assert sum(looked_at[incremental.partner.pk]) < 8 * 55 / 3


def test_the_customers_due_are_found_by_each_of_their_reasons_and_no_other(tenant, other_tenant) -> None:
    require(connection.vendor == "postgresql", "the due customers are read by a PostgreSQL statement")
    partner = tenant.partner
    quiet, terms, cut_off, paid = (CustomerFactory(partner=partner) for _ in range(4))
    invoice_due(quiet, DUE + dt.timedelta(days=60), "100.00")  # nothing to decide for two months
    subscription = SubscriptionFactory(customer=cut_off)
    invoice_due(cut_off, DUE - dt.timedelta(days=30), "300.00", subscription)  # suspended on DUE
    invoice = invoice_due(paid, DUE - dt.timedelta(days=10), "50.00")
    run_on(partner, DUE)
    today = DUE + dt.timedelta(days=1)
    pol = policy(partner)

    def due() -> set[int]:
        steps = list(pol.steps.all())
        return set(collections_service.due_customers(partner=partner, policy=pol, steps=steps, run_date=today))

    assert quiet.pk not in due()  # its first step is weeks away
    with clock.frozen(today):
        run_on(partner, today)
    assert due() == set()  # today's run decided everything there was to decide today

    newcomer = CustomerFactory(partner=partner)  # never looked at
    Customer.objects.filter(pk=terms.pk).update(collections_extra_grace_days=5)  # terms changed, no service
    Subscription.objects.filter(pk=subscription.pk).update(status=Subscription.Status.ACTIVE)  # reactivated by hand
    with clock.frozen(today):
        payment_record(partner=partner, customer=paid, actor=None, amount=invoice.balance, received_on=today)
    assert due() == {newcomer.pk, terms.pk, cut_off.pk, paid.pk}
    assert quiet.pk not in due()

    pol.grace_days = 2  # another policy: every customer
    pol.save()
    assert due() == set(Customer.objects.filter(partner=partner).values_list("pk", flat=True))
    assert not set(Customer.objects.filter(partner=other_tenant.partner).values_list("pk", flat=True)) & due()
