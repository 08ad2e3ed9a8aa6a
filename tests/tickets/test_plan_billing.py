"""Support plans on the month's invoices: the fee and the work beyond the allowance, billed once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.invoicing.models import Invoice, InvoiceLine
from billing.invoicing.services import invoice_draft_delete
from partner_portal import clock
from tests.factories.billing import draft, line
from tests.factories.tickets import offering, plan
from tests.factories.tickets import ticket as _ticket
from tickets.models import PlanCharge
from tickets.services import customer_plan_assign, support_charges_bill, ticket_status_change, time_entry_add

pytestmark = pytest.mark.django_db
NOV = dt.date(2026, 11, 20)


def ticket(customer, **fields):  # type: ignore[no-untyped-def]
    with clock.frozen(dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)):
        return _ticket(customer, **fields)


def period_draft(customer) -> Invoice:  # type: ignore[no-untyped-def]
    invoice = draft(customer, line("Microsoft 365 E3", "10", "36.00", "20.00"))
    Invoice.objects.filter(pk=invoice.pk).update(period="2026-11")
    return Invoice.objects.get(pk=invoice.pk)


def resolve(t, agent) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen(dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC)):
        ticket_status_change(ticket=t, actor=agent, status="open")
        ticket_status_change(ticket=t, actor=agent, status="resolved")


def test_the_monthly_fee_and_the_hours_beyond_the_allowance_go_on_the_month_draft_once(tenant) -> None:
    offering(tenant.partner, price_model="hourly", price_amount="500.00")  # the plan prices support instead
    gold = plan(
        tenant.partner, "Gold", price_model="monthly", monthly_fee="250.00", hourly_rate="90.00", included_hours=2,
        currency="USD",
    )  # fmt: skip
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=None)
    invoice = period_draft(tenant.customer)
    t = ticket(tenant.customer)
    time_entry_add(ticket=t, agent=tenant.agent, minutes=150, billable=True, worked_on=NOV)
    time_entry_add(ticket=t, agent=tenant.agent, minutes=40, billable=True, worked_on=NOV)  # 3 h 10 min in all
    time_entry_add(ticket=t, agent=tenant.agent, minutes=600, billable=False, worked_on=NOV)

    result = support_charges_bill(partner=tenant.partner, period="2026-11", actor=tenant.finance)

    lines = list(InvoiceLine.objects.filter(invoice=invoice, kind=InvoiceLine.Kind.SUPPORT).order_by("position"))
    assert [(x.description, x.quantity, x.unit_price, x.amount) for x in lines] == [
        ("Support plan Gold, November 2026", Decimal("1"), Decimal("250.00"), Decimal("250.00")),
        ("Support hours beyond the 2 included in Gold, November 2026", Decimal("1.17"), Decimal("90.00"),
         Decimal("105.30")),
    ]  # fmt: skip
    assert (result.lines, [i.pk for i in result.invoices]) == (2, [invoice.pk])
    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("715.30"),
        Decimal("143.06"),
        Decimal("858.36"),
    )
    assert set(PlanCharge.objects.values_list("kind", "invoice_id")) == {("fee", invoice.pk), ("hours", invoice.pk)}

    again = support_charges_bill(partner=tenant.partner, period="2026-11", actor=tenant.finance)
    assert (again.lines, again.invoices) == (0, [])
    assert InvoiceLine.objects.filter(kind=InvoiceLine.Kind.SUPPORT).count() == 2


def test_incidents_beyond_the_allowance_and_the_default_plan(tenant) -> None:
    offering(tenant.partner)
    plan(tenant.partner, "Pay per case", price_model="per_incident", incident_price="75.50", included_incidents=1,
         currency="USD", is_default=True)  # fmt: skip
    for _n in range(3):
        resolve(ticket(tenant.customer), tenant.agent)
    resolve(ticket(tenant.other_customer), tenant.agent)  # one, within the allowance

    result = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None)

    (invoice,) = result.invoices
    assert (invoice.customer, invoice.status, invoice.notes) == (tenant.customer, "draft", "Support, November 2026.")
    (charge,) = InvoiceLine.objects.filter(invoice=invoice)
    assert (charge.description, charge.quantity, charge.amount) == (
        "Support incidents beyond the 1 included in Pay per case, November 2026", Decimal("2"), Decimal("151.00"),
    )  # fmt: skip
    assert not PlanCharge.objects.filter(customer=tenant.other_customer).exists()


def test_deleting_the_draft_makes_the_fee_billable_again(tenant) -> None:
    gold = plan(tenant.partner, "Gold", price_model="monthly", monthly_fee="100.00", currency="USD")
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=None)
    first = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).invoices[0]
    invoice_draft_delete(invoice=first, actor=tenant.finance)
    second = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None).invoices[0]
    assert second.pk != first.pk
    assert second.total == Decimal("100.00")
    assert PlanCharge.objects.get().invoice_id == second.pk


def test_a_plan_in_another_currency_than_the_draft_is_skipped(tenant) -> None:
    euro = plan(tenant.partner, "Euro", price_model="monthly", monthly_fee="100.00", currency="EUR")
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=euro, actor=None)
    invoice = period_draft(tenant.customer)  # USD
    result = support_charges_bill(partner=tenant.partner, period="2026-11", actor=None)
    assert (result.lines, result.skipped_other_currency) == (0, 1)
    assert not InvoiceLine.objects.filter(invoice=invoice, kind=InvoiceLine.Kind.SUPPORT).exists()
