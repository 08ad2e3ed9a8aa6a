"""The collections run at the service level, on a fixed date: steps, thresholds, overrides,
suspension scope, reactivation, idempotency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from billing.collections.models import CollectionPolicy, CollectionRun, Notice
from billing.collections.services import collection_notice_send, collections_run, collections_run_all
from billing.invoicing.services import AllocationInput, credit_note_issue, payment_record
from partner_portal import clock
from partner_portal.models import AuditEvent
from subscriptions.models import Subscription, SubscriptionChange
from tests.factories import CustomerFactory
from tests.factories.collections import DUE, invoice_due, policy, run_on, steps_sent
from tests.factories.subscriptions import SubscriptionFactory

pytestmark = pytest.mark.django_db

REMIND, FINAL, SUSPEND = "remind", "final_notice", "suspend"


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)):
        yield


def _pay(invoice, amount: str) -> None:
    payment_record(
        partner=invoice.partner, customer=invoice.customer, actor=None, amount=Decimal(amount),
        received_on=DUE, allocations=[AllocationInput(invoice=invoice, amount=Decimal(amount))],
    )  # fmt: skip


def _confirm_suspended(*subs: Subscription) -> None:
    """What Partner Center's answer does: the pending suspension becomes a suspension."""
    Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(status=Subscription.Status.SUSPENDED)
    SubscriptionChange.objects.filter(subscription__in=subs).update(state=SubscriptionChange.State.CONFIRMED)


# --- Every step of the default policy -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (-4, None),
        (-3, (-3, REMIND)),
        (-1, (-3, REMIND)),  # the step of -3 still applies: a first run on -1 sends it
        (0, (0, REMIND)),
        (6, (0, REMIND)),
        (7, (7, REMIND)),
        (14, (14, REMIND)),
        (21, (21, FINAL)),
        (29, (21, FINAL)),
        (30, (30, SUSPEND)),
        (90, (30, SUSPEND)),
    ],
)
def test_the_due_step_of_the_default_policy(tenant, day, expected) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    run = run_on(tenant.partner, day)
    assert run.status == CollectionRun.Status.DONE
    assert steps_sent(invoice) == ([expected] if expected else [])


def test_run_every_day_sends_each_step_once_in_order_and_suspends_once(tenant) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    for day in range(-6, 40):
        run_on(tenant.partner, day)
    assert steps_sent(invoice) == [(-3, REMIND), (0, REMIND), (7, REMIND), (14, REMIND), (21, FINAL), (30, SUSPEND)]
    days = dict(Notice.objects.filter(invoice=invoice).values_list("offset_days", "days_overdue"))
    assert days == {-3: -3, 0: 0, 7: 7, 14: 14, 21: 21, 30: 30}
    change = SubscriptionChange.objects.get(subscription=sub)
    assert (change.wanted_status, change.source) == ("suspended", "collections")
    sub.refresh_from_db()
    assert (sub.status, sub.suspension_source) == (Subscription.Status.SUSPENSION_PENDING, "collections")
    suspended_on = CollectionRun.objects.get(run_date=DUE + dt.timedelta(days=30))
    assert suspended_on.suspensions_requested == 1
    assert CollectionRun.objects.exclude(pk=suspended_on.pk).filter(suspensions_requested__gt=0).count() == 0


def test_a_notice_records_the_next_step_and_its_date(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    run_on(tenant.partner, 14)
    notice = Notice.objects.get(invoice=invoice)
    assert (notice.next_action, notice.next_action_date) == (FINAL, DUE + dt.timedelta(days=21))
    assert (notice.amount_due, notice.overdue_total) == (Decimal("100.00"), Decimal("100.00"))
    run_on(tenant.partner, 30)
    last = Notice.objects.get(invoice=invoice, action=SUSPEND)
    assert (last.next_action, last.next_action_date) == ("", None)


# --- Thresholds ---------------------------------------------------------------------------------------


def test_below_the_minimum_no_step_after_the_due_date(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "9.99")
    sub = SubscriptionFactory(customer=tenant.customer)
    run_on(tenant.partner, 7)
    run_on(tenant.partner, 30)
    assert steps_sent(invoice) == []
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE


def test_reminders_up_to_the_due_date_go_whatever_the_minimum(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "5.00")
    run_on(tenant.partner, -3)
    run_on(tenant.partner, 0)
    assert steps_sent(invoice) == [(-3, REMIND), (0, REMIND)]


def test_the_minimum_counts_all_overdue_invoices_of_the_customer(tenant) -> None:
    first = invoice_due(tenant.customer, DUE, "6.00")
    second = invoice_due(tenant.customer, DUE + dt.timedelta(days=3), "6.00")
    run_on(tenant.partner, 10)  # first: 10 days overdue (step 7), second: 7 days overdue (step 7); 12.00 ≥ 10
    assert steps_sent(first) == [(7, REMIND)]
    assert steps_sent(second) == [(7, REMIND)]
    assert Notice.objects.get(invoice=first).overdue_total == Decimal("12.00")


def test_a_partial_payment_under_the_minimum_stops_harsher_steps(tenant) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    run_on(tenant.partner, 14)
    _pay(invoice, "95.00")  # 5.00 left, under the minimum of 10.00
    run_on(tenant.partner, 21)
    run_on(tenant.partner, 30)
    assert steps_sent(invoice) == [(14, REMIND)]
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE


def test_a_partial_payment_above_the_minimum_still_counts(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    _pay(invoice, "60.00")
    run_on(tenant.partner, 21)
    notice = Notice.objects.get(invoice=invoice)
    assert (notice.action, notice.amount_due, notice.overdue_total) == (FINAL, Decimal("40.00"), Decimal("40.00"))


def test_a_paid_invoice_gets_nothing(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    _pay(invoice, "100.00")
    run_on(tenant.partner, 7)
    assert steps_sent(invoice) == []


# --- Overrides ----------------------------------------------------------------------------------------


def test_exempt_customers_get_notices_but_are_never_suspended(tenant) -> None:
    tenant.customer.collections_exempt = True
    tenant.customer.save()
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    for day in (14, 21, 30, 45):
        run_on(tenant.partner, day)
    assert steps_sent(invoice) == [(14, REMIND), (21, FINAL)]
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE
    assert not SubscriptionChange.objects.exists()


def test_extra_grace_days_move_the_steps_after_the_due_date(tenant) -> None:
    tenant.customer.collections_extra_grace_days = 5
    tenant.customer.save()
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    sent_on: dict[tuple[int, str], int] = {}
    for day in range(-5, 40):
        run_on(tenant.partner, day)
        for step in steps_sent(invoice):
            sent_on.setdefault(step, day)
    assert sent_on == {(-3, REMIND): -3, (0, REMIND): 0, (7, REMIND): 12, (14, REMIND): 19, (21, FINAL): 26,
                       (30, SUSPEND): 35}  # fmt: skip


def test_policy_grace_days_add_to_the_customer_grace(tenant) -> None:
    policy(tenant.partner, grace_days=2)
    tenant.customer.collections_extra_grace_days = 1
    tenant.customer.save()
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    run_on(tenant.partner, 9)
    assert steps_sent(invoice) == [(0, REMIND)]
    run_on(tenant.partner, 10)
    assert steps_sent(invoice) == [(0, REMIND), (7, REMIND)]


def test_a_promise_to_pay_pauses_everything_and_missed_steps_are_not_sent_later(tenant) -> None:
    tenant.customer.promise_to_pay_until = DUE + dt.timedelta(days=25)
    tenant.customer.save()
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    for day in range(-5, 26):
        run_on(tenant.partner, day)
    assert steps_sent(invoice) == []  # paused up to and including day 25
    run_on(tenant.partner, 26)
    assert steps_sent(invoice) == [(21, FINAL)]  # the step due now; the missed reminders are not sent
    # The suspension follows the final notice by the policy's 9 days between the two: on day 35, not 30.
    run_on(tenant.partner, 34)
    sub.refresh_from_db()
    assert (steps_sent(invoice), sub.status) == ([(21, FINAL)], Subscription.Status.ACTIVE)
    run_on(tenant.partner, 35)
    assert steps_sent(invoice) == [(21, FINAL), (30, SUSPEND)]
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.SUSPENSION_PENDING


# --- Suspension scope ---------------------------------------------------------------------------------


def test_only_subscriptions_billed_on_overdue_invoices_are_suspended(tenant) -> None:
    billed = SubscriptionFactory(customer=tenant.customer, product="Microsoft 365 E3")
    prepaid = SubscriptionFactory(customer=tenant.customer, product="Dynamics 365 Sales")
    invoice_due(tenant.customer, DUE, "100.00", billed)
    paid = invoice_due(tenant.customer, DUE - dt.timedelta(days=30), "200.00", prepaid)
    _pay(paid, "200.00")
    other_customer_sub = SubscriptionFactory(customer=tenant.other_customer)
    run = run_on(tenant.partner, 30)
    assert run.suspensions_requested == 1
    statuses = dict(Subscription.objects.values_list("pk", "status"))
    assert statuses == {
        billed.pk: Subscription.Status.SUSPENSION_PENDING,
        prepaid.pk: Subscription.Status.ACTIVE,
        other_customer_sub.pk: Subscription.Status.ACTIVE,
    }


def test_suspend_scope_all_suspends_every_active_subscription_of_the_customer(tenant) -> None:
    policy(tenant.partner, suspend_scope=CollectionPolicy.SuspendScope.ALL)
    billed = SubscriptionFactory(customer=tenant.customer)
    unrelated = SubscriptionFactory(customer=tenant.customer)
    cancelled = SubscriptionFactory(customer=tenant.customer, status=Subscription.Status.CANCELLED)
    other_customer_sub = SubscriptionFactory(customer=tenant.other_customer)
    invoice_due(tenant.customer, DUE, "100.00", billed)
    run = run_on(tenant.partner, 30)
    assert run.suspensions_requested == 2
    statuses = dict(Subscription.objects.values_list("pk", "status"))
    assert statuses == {
        billed.pk: Subscription.Status.SUSPENSION_PENDING,
        unrelated.pk: Subscription.Status.SUSPENSION_PENDING,
        cancelled.pk: Subscription.Status.CANCELLED,
        other_customer_sub.pk: Subscription.Status.ACTIVE,
    }
    assert AuditEvent.objects.filter(action="collections.suspension_requested", customer=tenant.customer).count() == 1


# --- Reactivation -------------------------------------------------------------------------------------


def test_paying_reactivates_only_what_collections_suspended(tenant) -> None:
    policy(tenant.partner, suspend_scope=CollectionPolicy.SuspendScope.ALL)
    sub = SubscriptionFactory(customer=tenant.customer)
    by_hand = SubscriptionFactory(
        customer=tenant.customer, status=Subscription.Status.SUSPENDED, suspension_source="manual"
    )
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    run_on(tenant.partner, 30)
    _confirm_suspended(sub)
    run_on(tenant.partner, 31)  # still unpaid: nothing changes
    assert SubscriptionChange.objects.filter(subscription=sub).count() == 1
    _pay(invoice, "100.00")
    run = run_on(tenant.partner, 32)
    assert run.reactivations_requested == 1
    sub.refresh_from_db()
    by_hand.refresh_from_db()
    assert sub.status == Subscription.Status.REACTIVATION_PENDING
    assert by_hand.status == Subscription.Status.SUSPENDED
    run_on(tenant.partner, 33)
    assert SubscriptionChange.objects.filter(subscription=sub, wanted_status="active").count() == 1
    assert run.details["customers"][0]["reason"] == "paid"
    reasons = list(sub.status_events.order_by("pk").values_list("reason", flat=True).distinct())
    assert "Overdue balance: suspended by the collections run of Dec 30, 2026." in reasons  # as dates read elsewhere
    assert "Overdue balance settled: reactivated by the collections run of Jan 1, 2027." in reasons


def test_a_credit_note_under_the_minimum_reactivates(tenant) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    run_on(tenant.partner, 30)
    _confirm_suspended(sub)
    credit_note_issue(invoice=invoice, actor=tenant.finance, amount=Decimal("95.00"), reason="Goodwill")
    run = run_on(tenant.partner, 31)
    assert run.reactivations_requested == 1
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.REACTIVATION_PENDING


def test_a_promise_to_pay_or_exemption_releases_a_collections_suspension(tenant) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice_due(tenant.customer, DUE, "100.00", sub)
    other_sub = SubscriptionFactory(customer=tenant.other_customer)
    invoice_due(tenant.other_customer, DUE, "100.00", other_sub)
    run_on(tenant.partner, 30)
    _confirm_suspended(sub, other_sub)
    tenant.customer.promise_to_pay_until = DUE + dt.timedelta(days=40)
    tenant.customer.save()
    tenant.other_customer.collections_exempt = True
    tenant.other_customer.save()
    run = run_on(tenant.partner, 31)
    assert run.reactivations_requested == 2
    reasons = {e["customer_id"]: e["reason"] for e in run.details["customers"]}
    assert reasons == {tenant.customer.pk: "promise_to_pay", tenant.other_customer.pk: "exempt"}


def test_no_automatic_reactivation_when_the_policy_says_so(tenant) -> None:
    policy(tenant.partner, reactivate_automatically=False)
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice = invoice_due(tenant.customer, DUE, "100.00", sub)
    run_on(tenant.partner, 30)
    _confirm_suspended(sub)
    _pay(invoice, "100.00")
    run = run_on(tenant.partner, 31)
    assert run.reactivations_requested == 0
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.SUSPENDED


# --- Idempotency --------------------------------------------------------------------------------------


def test_running_ten_times_a_day_sends_each_notice_once(tenant, on_commit) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    invoices = [invoice_due(tenant.customer, DUE - dt.timedelta(days=d), "100.00", sub) for d in (0, 21, 30)]
    runs = []
    for _ in range(10):
        with on_commit():
            runs.append(run_on(tenant.partner, 0))
    assert [steps_sent(i) for i in invoices] == [[(0, REMIND)], [(21, FINAL)], [(30, SUSPEND)]]
    assert len(mail.outbox) == 3
    assert SubscriptionChange.objects.count() == 1
    first, *rest = (CollectionRun.objects.get(pk=r.pk) for r in runs)
    assert (first.notices_sent, first.suspensions_requested) == (3, 1)
    assert [(r.notices_sent, r.suspensions_requested, r.details["notices_queued"]) for r in rest] == [(0, 0, 0)] * 9


def test_a_crash_half_way_changes_nothing_and_the_next_run_does_it_all_once(tenant, monkeypatch, on_commit) -> None:
    from billing.collections.services import run as collections_service

    invoice_due(tenant.customer, DUE - dt.timedelta(days=7), "100.00")
    sub = SubscriptionFactory(customer=tenant.other_customer)
    invoice_due(tenant.other_customer, DUE - dt.timedelta(days=30), "100.00", sub)

    def crash(**kwargs: object) -> list[object]:
        raise ConnectionError("database went away")

    monkeypatch.setattr(collections_service, "subscriptions_status_request_many", crash)
    with on_commit():
        failed = run_on(tenant.partner, 0)
    assert failed.status == CollectionRun.Status.FAILED
    assert failed.details["errors"] == ["ConnectionError: database went away"]
    assert (Notice.objects.count(), len(mail.outbox), SubscriptionChange.objects.count()) == (0, 0, 0)
    monkeypatch.undo()
    with on_commit():
        done = run_on(tenant.partner, 0)
        run_on(tenant.partner, 0)
    assert done.status == CollectionRun.Status.DONE
    assert (Notice.objects.count(), len(mail.outbox), SubscriptionChange.objects.count()) == (2, 2, 1)
    assert SubscriptionChange.objects.get().subscription_id == sub.pk


def test_a_failed_email_is_counted_and_sent_by_the_next_run(tenant, monkeypatch, on_commit) -> None:
    from django.core.mail import EmailMultiAlternatives

    invoice = invoice_due(tenant.customer, DUE, "100.00")
    original = EmailMultiAlternatives.send

    def refuse(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        raise OSError("SMTP server refused the connection")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with on_commit():
        first = run_on(tenant.partner, 7)
    notice = Notice.objects.get(invoice=invoice)
    assert (notice.status, notice.attempts, notice.error) == (
        "failed",
        1,
        "OSError: SMTP server refused the connection",
    )
    first.refresh_from_db()
    assert (first.notices_sent, first.errors_count) == (0, 1)
    monkeypatch.setattr(EmailMultiAlternatives, "send", original)
    with on_commit():
        run_on(tenant.partner, 7)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, len(mail.outbox)) == ("sent", 2, 1)
    first.refresh_from_db()
    assert first.notices_sent == 1  # the notice belongs to the run that made it


def test_a_notice_is_claimed_once(tenant, on_commit) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    run_on(tenant.partner, 7)  # not committed: nothing sent yet
    notice = Notice.objects.get(invoice=invoice)
    assert notice.status == "pending"
    assert collection_notice_send(notice_id=notice.pk) == "sent"
    assert collection_notice_send(notice_id=notice.pk) == "sent"
    assert len(mail.outbox) == 1


def test_a_claim_of_a_dead_worker_is_never_sent_again_by_itself(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    run_on(tenant.partner, 7)
    notice = Notice.objects.get(invoice=invoice)
    Notice.objects.filter(pk=notice.pk).update(status="sending", claimed_at=clock.now() - dt.timedelta(minutes=5))
    assert collection_notice_send(notice_id=notice.pk) == "sending"  # another worker may still be at it
    Notice.objects.filter(pk=notice.pk).update(claimed_at=clock.now() - dt.timedelta(hours=1))
    assert collection_notice_send(notice_id=notice.pk) == "sending"  # the email may have left: staff decide
    assert mail.outbox == []


def test_a_notice_settled_before_sending_is_cancelled(tenant) -> None:
    invoice = invoice_due(tenant.customer, DUE, "100.00")
    run_on(tenant.partner, 7)
    _pay(invoice, "100.00")
    notice = Notice.objects.get(invoice=invoice)
    assert collection_notice_send(notice_id=notice.pk) == "cancelled"
    assert mail.outbox == []


def test_runs_of_all_partners_are_apart(tenant, other_tenant) -> None:
    mine = invoice_due(tenant.customer, DUE, "100.00")
    theirs = invoice_due(other_tenant.customer, DUE, "100.00")
    policy(other_tenant.partner, min_amount=Decimal("500.00"))
    runs = collections_run_all(run_date=DUE + dt.timedelta(days=7))
    assert [(p.pk, r.partner_id, r.status) for p, r in runs] == [
        (tenant.partner.pk, tenant.partner.pk, "done"),
        (other_tenant.partner.pk, other_tenant.partner.pk, "done"),
    ]
    assert steps_sent(mine) == [(7, REMIND)]
    assert steps_sent(theirs) == []
    assert Notice.objects.get(invoice=mine).partner_id == tenant.partner.pk


def test_the_run_records_what_it_did_per_customer(tenant) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    invoice_due(tenant.customer, DUE - dt.timedelta(days=30), "120.00", sub)
    invoice_due(tenant.other_customer, DUE, "4.00")
    run = run_on(tenant.partner, 7)
    assert run.details["customers"] == [
        {"customer_id": tenant.customer.pk, "customer": tenant.customer.name, "overdue_total": "120.00",
         "currency": "USD", "notices": 1, "suspended": 1, "reactivated": 0, "reason": ""},
        {"customer_id": tenant.other_customer.pk, "customer": tenant.other_customer.name, "overdue_total": "4.00",
         "currency": "USD", "notices": 0, "suspended": 0, "reactivated": 0, "reason": "below_minimum"},
    ]  # fmt: skip
    assert run.details["notices_queued"] == 1
    assert AuditEvent.objects.filter(action="collections.run_finished", target_id=str(run.pk)).count() == 1


# --- Set-based --------------------------------------------------------------------------------------


def _populate(partner, count: int) -> None:
    for n in range(count):
        customer = CustomerFactory(partner=partner)
        sub = SubscriptionFactory(customer=customer)
        invoice_due(customer, DUE - dt.timedelta(days=(-3, 0, 7, 14, 21, 30)[n % 6]), "100.00", sub)
        if n % 5 == 0:  # some collections-suspended customers who have paid since
            paid_sub = SubscriptionFactory(customer=customer, status="suspended", suspension_source="collections")
            _pay(invoice_due(customer, DUE - dt.timedelta(days=40), "50.00", paid_sub), "50.00")


def test_the_run_takes_the_same_number_of_queries_for_6_and_48_customers(tenant, other_tenant) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _populate(tenant.partner, 6)
    _populate(other_tenant.partner, 48)  # SQLite's 999 parameters take 55 notices in one INSERT
    policy(tenant.partner)
    policy(other_tenant.partner)
    counts = []
    for partner in (tenant.partner, other_tenant.partner):
        with CaptureQueriesContext(connection) as queries:
            run = collections_run(partner=partner, run_date=DUE)
        assert run.status == "done"
        counts.append(len(queries))
    small, large = (CollectionRun.objects.get(partner=p) for p in (tenant.partner, other_tenant.partner))
    assert (small.details["notices_queued"], large.details["notices_queued"]) == (6, 48)
    assert (small.suspensions_requested, large.suspensions_requested) == (1, 8)
    assert (small.reactivations_requested, large.reactivations_requested) == (1, 3)  # those not overdue now
    assert counts[0] == counts[1]
