"""Invoice generation from subscriptions: pro-rating, quantity changes, idempotency, the command."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.invoicing.models import Invoice
from billing.invoicing.services import invoices_generate, previous_period
from subscriptions.models import Subscription, SubscriptionQuantityChange
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def subscribe(
    tenant: Tenant,
    *,
    quantity=10,
    price="36.00",
    start=dt.date(2026, 1, 1),
    end=None,
    product="Microsoft 365 E3",
    customer=None,
    **kw,
) -> Subscription:
    customer = customer or tenant.customer
    return Subscription.objects.create(
        partner=tenant.partner, customer=customer, product=product, quantity=quantity,
        unit_price=Decimal(price), start_date=start, end_date=end, **kw,
    )  # fmt: skip


def lines_of(invoice: Invoice) -> list[tuple[str, str, str]]:
    return [(str(x.quantity), str(x.unit_price), str(x.amount)) for x in invoice.lines.order_by("position")]


def test_a_full_month_bills_quantity_times_price(tenant: Tenant) -> None:
    subscribe(tenant, tax_rate=Decimal("20.00"))
    result = invoices_generate(partner=tenant.partner, period="2026-11")
    invoice = Invoice.objects.get(pk=result.created[0])
    assert (invoice.customer, invoice.period, invoice.status) == (tenant.customer, "2026-11", Invoice.Status.DRAFT)
    assert lines_of(invoice) == [("10.0000", "36.0000", "360.00")]
    assert invoice.total == Decimal("432.00")
    assert invoice.lines.get().description == "Microsoft 365 E3 — November 2026"


def test_a_subscription_starting_mid_month_is_pro_rated_by_day(tenant: Tenant) -> None:
    subscribe(tenant, start=dt.date(2026, 11, 12))  # 19 of 30 days
    invoice = Invoice.objects.get(pk=invoices_generate(partner=tenant.partner, period="2026-11").created[0])
    # 10 x 19/30 = 6.3333 licence-months; 6.3333 x 36.00 = 227.9988 -> 228.00
    assert lines_of(invoice) == [("6.3333", "36.0000", "228.00")]
    assert "12 Nov–30 Nov" in invoice.lines.get().description


def test_a_subscription_ending_mid_month_is_billed_to_its_end(tenant: Tenant) -> None:
    subscribe(tenant, end=dt.date(2026, 2, 14), status=Subscription.Status.CANCELLED)  # 14 of 28 days
    invoice = Invoice.objects.get(pk=invoices_generate(partner=tenant.partner, period="2026-02").created[0])
    assert lines_of(invoice) == [("5.0000", "36.0000", "180.00")]
    assert invoices_generate(partner=tenant.partner, period="2026-03").created == []


def test_a_quantity_change_splits_the_month(tenant: Tenant) -> None:
    sub = subscribe(tenant, quantity=15)
    SubscriptionQuantityChange.objects.create(
        partner=tenant.partner, subscription=sub, effective_on=dt.date(2026, 1, 1), quantity=10
    )
    SubscriptionQuantityChange.objects.create(
        partner=tenant.partner, subscription=sub, effective_on=dt.date(2026, 11, 21), quantity=15
    )
    invoice = Invoice.objects.get(pk=invoices_generate(partner=tenant.partner, period="2026-11").created[0])
    # 1-20 Nov at 10 (20/30), 21-30 Nov at 15 (10/30)
    assert lines_of(invoice) == [("6.6667", "36.0000", "240.00"), ("5.0000", "36.0000", "180.00")]


def test_one_invoice_per_customer_and_running_again_creates_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    subscribe(tenant)
    subscribe(tenant, product="Azure plan", price="480.00", quantity=1)
    subscribe(tenant, customer=tenant.other_customer)
    subscribe(other_tenant)
    first = invoices_generate(partner=tenant.partner, period="2026-11")
    assert len(first.created) == 2
    assert Invoice.objects.get(customer=tenant.customer).lines.count() == 2
    again = invoices_generate(partner=tenant.partner, period="2026-11")
    assert (again.created, again.skipped_existing) == ([], 2)
    assert Invoice.objects.filter(partner=tenant.partner).count() == 2
    assert Invoice.objects.filter(partner=other_tenant.partner).count() == 0


def test_generated_invoices_can_be_issued_at_once(tenant: Tenant) -> None:
    subscribe(tenant)
    result = invoices_generate(partner=tenant.partner, period="2026-11", issue=True, issue_date=dt.date(2026, 12, 1))
    invoice = Invoice.objects.get(pk=result.created[0])
    assert (invoice.status, invoice.number, invoice.issue_date) == (
        Invoice.Status.ISSUED,
        "INV-2026-000001",
        dt.date(2026, 12, 1),
    )


def test_lines_are_in_the_customers_language(tenant: Tenant) -> None:
    tenant.customer.language = "ru"
    tenant.customer.save()
    subscribe(tenant)
    invoice = Invoice.objects.get(pk=invoices_generate(partner=tenant.partner, period="2026-11").created[0])
    assert invoice.lines.get().description == "Microsoft 365 E3 — Ноябрь 2026"


def test_the_command_takes_a_period_and_reports(tenant: Tenant) -> None:
    subscribe(tenant)
    out = StringIO()
    call_command("generate_invoices", "--period", "2026-11", "--partner", tenant.partner.slug, stdout=out)
    assert "1 created, 0 already there" in out.getvalue()
    call_command("generate_invoices", "--period", "2026-11", stdout=out)
    assert "0 created, 1 already there" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("generate_invoices", "--period", "2026-13")


def test_previous_period() -> None:
    assert previous_period(dt.date(2026, 1, 1)) == "2025-12"
    assert previous_period(dt.date(2026, 3, 31)) == "2026-02"


def test_the_monthly_job_generates_for_every_partner(tenant: Tenant, other_tenant: Tenant) -> None:
    from billing.invoicing.tasks import invoices_generate_task

    subscribe(tenant)
    subscribe(other_tenant)
    assert invoices_generate_task.delay(period="2026-11").get() == {"created": 2, "skipped_existing": 0}
    assert invoices_generate_task.delay(period="2026-11").get() == {"created": 0, "skipped_existing": 2}
