"""Support plans: SLA targets from the most specific row, assignment per customer or by default, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from partner_portal import clock
from partner_portal.models import AuditEvent
from tests.factories.tickets import offering, plan, ticket
from tickets.errors import PlanInvalid
from tickets.models import SupportPlan, Ticket
from tickets.services import (
    OfferingInput,
    PlanInput,
    TargetInput,
    TicketChanges,
    customer_plan,
    customer_plan_assign,
    support_offering_update,
    support_plan_save,
    ticket_update,
)

pytestmark = pytest.mark.django_db
MONDAY_9 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # offering: weekdays 09:00-18:00 UTC


def opened(customer, **fields) -> Ticket:  # type: ignore[no-untyped-def]
    with clock.frozen(MONDAY_9):
        return ticket(customer, **fields)


def minutes_to(due: dt.datetime | None) -> int:
    assert due is not None
    return int((due - MONDAY_9).total_seconds() // 60)


def test_the_offering_overrides_a_family_and_a_plan_overrides_both(tenant) -> None:
    offering(tenant.partner, first_response_minutes_b=240, resolution_minutes_b=480)
    support_offering_update(
        partner=tenant.partner, actor=tenant.admin,
        data=OfferingInput(time_zone="UTC", hours={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                           first_response_minutes_b=240, resolution_minutes_b=480,
                           sla_overrides=[TargetInput("B", "azure", 60, 300)]),
    )  # fmt: skip
    assert minutes_to(opened(tenant.customer, severity="B", product_family="azure").first_response_due) == 60
    assert minutes_to(opened(tenant.customer, severity="B", product_family="dynamics_365").first_response_due) == 240

    gold = plan(tenant.partner, "Gold", targets=[("B", "", 30, 120), ("B", "dynamics_365", 15, 60)])
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=tenant.admin)
    dynamics = opened(tenant.customer, severity="B", product_family="dynamics_365")
    azure = opened(tenant.customer, severity="B", product_family="azure")
    severity_a = opened(tenant.customer, severity="A", product_family="azure")
    assert (minutes_to(dynamics.first_response_due), minutes_to(dynamics.resolution_due)) == (15, 60)
    assert (minutes_to(azure.first_response_due), minutes_to(azure.resolution_due)) == (30, 120)
    assert minutes_to(severity_a.first_response_due) == 60  # the plan has no A target: the offering's
    # The other customer has no plan: the offering's targets.
    assert minutes_to(opened(tenant.other_customer, severity="B", product_family="azure").first_response_due) == 60


def test_a_customer_without_a_plan_is_on_the_default_plan(tenant) -> None:
    offering(tenant.partner)
    plan(tenant.partner, "Basic", targets=[("C", "", 120, 600)], is_default=True)
    assert customer_plan(tenant.customer).name == "Basic"
    assert minutes_to(opened(tenant.customer, severity="C").first_response_due) == 120


def test_a_new_product_family_recomputes_the_due_times(tenant) -> None:
    offering(tenant.partner)
    gold = plan(tenant.partner, "Gold", targets=[("C", "azure", 30, 90)])
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=None)
    t = opened(tenant.customer, severity="C", product_family="microsoft_365")
    assert minutes_to(t.first_response_due) == 480
    with clock.frozen(MONDAY_9 + dt.timedelta(minutes=5)):
        t = ticket_update(ticket=t, actor=tenant.agent, changes=TicketChanges(product_family="azure"))
    assert (minutes_to(t.first_response_due), minutes_to(t.resolution_due)) == (30, 90)


def test_a_plan_is_refused_with_a_message_per_field(tenant) -> None:
    with pytest.raises(PlanInvalid) as refused:
        support_plan_save(
            partner=tenant.partner, actor=tenant.admin,
            data=PlanInput(name=" ", price_model="monthly", hourly_rate=Decimal("-1"),
                           targets=[TargetInput("A", "azure", 60, 30), TargetInput("Z", "", 1, 1)]),
        )  # fmt: skip
    fields = refused.value.fields
    assert fields["name"] == ["Give the plan a name."]
    assert fields["monthly_fee"] == ["This price model needs this price."]
    assert fields["hourly_rate"] == ["A price is more than zero; leave it empty for none."]
    assert fields["targets"] == [
        "The resolution target cannot be shorter than the first response target.",
        "Unknown severity: Z.",
    ]
    assert not SupportPlan.objects.exists()


def test_the_default_flag_moves_and_changes_are_audited(tenant) -> None:
    basic = plan(tenant.partner, "Basic", is_default=True)
    gold = plan(tenant.partner, "Gold", price_model="monthly", monthly_fee="99.999", currency="EUR", is_default=True)
    basic.refresh_from_db()
    assert (basic.is_default, gold.is_default, gold.monthly_fee) == (False, True, Decimal("100.00"))
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=tenant.admin)
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=gold, actor=tenant.admin)  # no-op
    customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=None, actor=tenant.admin)
    events = list(
        AuditEvent.objects.filter(action="customer.support_plan_changed", customer=tenant.customer).order_by("pk")
    )
    assert [e.data["plan"] for e in events] == [[None, "Gold"], ["Gold", None]]
    assert AuditEvent.objects.filter(action="support_plan.created").count() == 2


def test_a_plan_of_another_partner_cannot_be_assigned(tenant, other_tenant) -> None:
    foreign = plan(other_tenant.partner, "Foreign")
    with pytest.raises(PlanInvalid):
        customer_plan_assign(partner=tenant.partner, customer=tenant.customer, plan=foreign, actor=tenant.admin)
    assert customer_plan(tenant.customer) is None
