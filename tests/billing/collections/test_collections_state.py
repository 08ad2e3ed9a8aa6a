"""Dunning never steps back: after a policy change an invoice gets no step milder than the harshest it
has had, a suspended customer gets no notice announcing a suspension, and the overview's next action
is what the run does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.collections.models import CustomerDunning, InvoiceDunning, Notice
from billing.collections.services import StepInput, collection_policy_update
from partner_portal import clock
from subscriptions.models import Subscription
from tests.factories import CustomerFactory
from tests.factories.collections import DUE, invoice_due, run_on, steps_sent
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db

REMIND, FINAL, SUSPEND = "remind", "final_notice", "suspend"
DEFAULT = [(-3, REMIND), (0, REMIND), (7, REMIND), (14, REMIND), (21, FINAL), (30, SUSPEND)]


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)):
        yield


def _add_day_3_reminder_and_2_grace_days(partner) -> None:
    """What the partner admin saves: the default steps, a reminder on day 3, and 2 grace days."""
    collection_policy_update(
        partner=partner, actor=None, min_amount=Decimal("10.00"), grace_days=2, suspend_scope="overdue_invoices",
        reactivate_automatically=True, steps=[StepInput(o, a) for o, a in [*DEFAULT, (3, REMIND)]],
    )  # fmt: skip


def _confirm_suspended(sub: Subscription) -> None:
    Subscription.objects.filter(pk=sub.pk).update(status=Subscription.Status.SUSPENDED)


def test_after_a_policy_change_no_invoice_steps_back_and_no_suspended_customer_is_warned(tenant) -> None:
    final_customer = CustomerFactory(partner=tenant.partner, name="Final Ltd")
    suspended_customer = CustomerFactory(partner=tenant.partner, name="Suspended Ltd")
    final_invoice = invoice_due(final_customer, DUE, "100.00")
    sub = SubscriptionFactory(customer=suspended_customer)
    suspended_invoice = invoice_due(suspended_customer, DUE - dt.timedelta(days=9), "200.00", sub)
    run_on(tenant.partner, 21)  # Final Ltd: final notice (+21); Suspended Ltd: suspended (+30)
    _confirm_suspended(sub)
    assert steps_sent(final_invoice) == [(21, FINAL)]
    assert steps_sent(suspended_invoice) == [(30, SUSPEND)]
    assert CustomerDunning.objects.get(customer=suspended_customer).suspended is True

    _add_day_3_reminder_and_2_grace_days(tenant.partner)
    # Day 22: with 2 grace days the due step of Final Ltd is the +14 reminder, of Suspended Ltd (+31)
    # the final notice (+23). Neither is sent: they had harsher ones.
    for day in (22, 23, 24):
        run_on(tenant.partner, day)
    assert steps_sent(final_invoice) == [(21, FINAL)]
    assert steps_sent(suspended_invoice) == [(30, SUSPEND)]
    assert not Notice.objects.filter(customer=suspended_customer, action__in=[REMIND, FINAL]).exists()
    assert InvoiceDunning.objects.get(invoice=final_invoice).harshest == FINAL

    # Final Ltd is suspended 9 days after its final notice, on the suspension day of the new policy (+32).
    run_on(tenant.partner, 31)
    assert steps_sent(final_invoice) == [(21, FINAL)]
    run_on(tenant.partner, 32)
    assert steps_sent(final_invoice) == [(21, FINAL), (30, SUSPEND)]


def test_the_overview_announces_what_the_run_then_does(tenant, client_for) -> None:
    customer = CustomerFactory(partner=tenant.partner, name="Final Ltd")
    invoice = invoice_due(customer, DUE, "100.00")
    run_on(tenant.partner, 21)
    _add_day_3_reminder_and_2_grace_days(tenant.partner)
    with clock.frozen(dt.datetime.combine(DUE + dt.timedelta(days=22), dt.time(9), tzinfo=dt.UTC)):
        response = client_for(tenant.agent).get("/staff/collections/")
    assert response.status_code == 200
    row = next(r for r in response.context["rows"] if r.customer.pk == customer.pk)
    # Not the +14 reminder due that day: the suspension, on the first day the run takes it.
    assert (row.next_action.action, row.next_action.on) == (SUSPEND, DUE + dt.timedelta(days=32))
    run_on(tenant.partner, 22)
    assert steps_sent(invoice) == [(21, FINAL)]


# --- After a promise to pay --------------------------------------------------------------------------


def test_when_a_promise_to_pay_ends_past_the_suspension_day_the_final_notice_comes_first(tenant) -> None:
    tenant.customer.promise_to_pay_until = DUE + dt.timedelta(days=35)
    tenant.customer.save()
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    for day in range(-5, 36):
        run_on(tenant.partner, day)
    assert steps_sent(invoice) == []  # held up to and including day 35
    run_on(tenant.partner, 36)  # the suspension step is due, but nothing was ever sent
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE
    notice = Notice.objects.get(invoice=invoice)
    assert (notice.offset_days, notice.action) == (21, FINAL)
    # With the policy's days between the final notice (+21) and the suspension (+30): 9 days later.
    assert (notice.next_action, notice.next_action_date) == (SUSPEND, DUE + dt.timedelta(days=45))
    for day in range(37, 45):
        run_on(tenant.partner, day)
    sub.refresh_from_db()
    assert (steps_sent(invoice), sub.status) == ([(21, FINAL)], Subscription.Status.ACTIVE)
    run_on(tenant.partner, 45)
    sub.refresh_from_db()
    assert steps_sent(invoice) == [(21, FINAL), (30, SUSPEND)]
    assert sub.status == Subscription.Status.SUSPENSION_PENDING


def test_the_overview_of_a_held_customer_announces_the_final_notice_for_the_day_after_the_hold(
    tenant, client_for
) -> None:
    tenant.customer.promise_to_pay_until = DUE + dt.timedelta(days=35)
    tenant.customer.save()
    invoice_due(tenant.customer, DUE, "100.00")
    with clock.frozen(dt.datetime.combine(DUE + dt.timedelta(days=33), dt.time(9), tzinfo=dt.UTC)):
        response = client_for(tenant.agent).get("/staff/collections/")
    row = next(r for r in response.context["rows"] if r.customer.pk == tenant.customer.pk)
    assert (row.next_action.action, row.next_action.on) == (FINAL, DUE + dt.timedelta(days=36))


def test_after_a_hold_the_customer_is_told_the_suspension_day_the_run_keeps(tenant, client_for) -> None:
    tenant.customer.promise_to_pay_until = DUE + dt.timedelta(days=35)
    tenant.customer.save()
    invoice_due(tenant.customer, DUE, "100.00", SubscriptionFactory(customer=tenant.customer))
    run_on(tenant.partner, 36)  # the final notice, the suspension on day 45
    with clock.frozen(dt.datetime.combine(DUE + dt.timedelta(days=37), dt.time(9), tzinfo=dt.UTC)):
        response = client_for(tenant.customer_admin).get("/my/")
    status = response.context["collections"]
    assert status.next_suspension == DUE + dt.timedelta(days=45)
    assert "due to be suspended today" not in response.content.decode()
    with clock.frozen(dt.datetime.combine(DUE + dt.timedelta(days=40), dt.time(9), tzinfo=dt.UTC)):
        soon = client_for(tenant.customer_admin).get("/my/").content.decode()
    assert "will be suspended in 5 days" in soon
