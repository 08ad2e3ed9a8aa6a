"""Suspension and reactivation requests: set-based, idempotent, audited, pushed after commit."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from partner_portal import clock
from partner_portal.models import AuditEvent
from subscriptions.errors import SubscriptionError
from subscriptions.models import Subscription, SubscriptionChange, SubscriptionStatusEvent
from subscriptions.services import (
    subscription_change_complete_manually,
    subscription_change_push,
    subscription_changes_push_due,
    subscription_reactivate,
    subscription_suspend,
    subscriptions_status_request,
)
from tests.conftest import Tenant, require
from tests.factories.subscriptions import SubscriptionFactory, azure_plan

Status = Subscription.Status
State = SubscriptionChange.State
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _reload(sub: Subscription) -> Subscription:
    return Subscription.objects.get(pk=sub.pk)


def test_suspend_by_collections_moves_active_ones_to_pending_and_records_everything(
    tenant: Tenant, django_capture_on_commit_callbacks
) -> None:
    one, two = SubscriptionFactory(customer=tenant.customer), SubscriptionFactory(customer=tenant.customer)
    cancelled = SubscriptionFactory(customer=tenant.customer, status=Status.CANCELLED)
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=False) as callbacks:
        changes = subscriptions_status_request(
            partner=tenant.partner, subscription_ids=[one.pk, two.pk, cancelled.pk], wanted="suspended",
            reason="Invoice INV-2026-000042 is 30 days overdue", actor=None, source="collections",
        )  # fmt: skip
    assert sorted(c.subscription_id for c in changes) == [one.pk, two.pk]
    assert len(callbacks) == 1  # the pushes, scheduled after commit
    assert len({c.request_id for c in changes}) == 2
    for change in changes:
        assert (change.wanted_status, change.state, change.source, change.attempts) == (
            "suspended", State.PENDING, "collections", 0,
        )  # fmt: skip
    assert _reload(one).status == Status.SUSPENSION_PENDING
    assert _reload(one).suspension_source == "collections"
    assert _reload(cancelled).status == Status.CANCELLED
    event = SubscriptionStatusEvent.objects.get(subscription=one)
    assert (event.from_status, event.to_status, event.reason, event.source, event.change_id) == (
        "active", "suspension_pending", "Invoice INV-2026-000042 is 30 days overdue", "collections",
        next(c.pk for c in changes if c.subscription_id == one.pk),
    )  # fmt: skip
    audit = AuditEvent.objects.filter(action="subscription.suspension_requested").order_by("target_id")
    assert [a.target_id for a in audit] == sorted([str(one.pk), str(two.pk)])
    assert audit[0].customer_id == tenant.customer.pk


def test_asking_twice_creates_nothing_the_second_time(tenant: Tenant) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    first = subscriptions_status_request(
        partner=tenant.partner, subscription_ids=[sub.pk], wanted="suspended", reason="overdue", actor=None,
        source="collections",
    )  # fmt: skip
    again = subscriptions_status_request(
        partner=tenant.partner, subscription_ids=[sub.pk], wanted="suspended", reason="overdue", actor=None,
        source="collections",
    )  # fmt: skip
    assert len(first) == 1
    assert again == []
    assert SubscriptionChange.objects.filter(subscription=sub).count() == 1
    assert subscription_suspend(subscription=sub, reason="by hand", actor=tenant.finance) is None


def test_other_partners_subscriptions_are_never_touched(tenant: Tenant, other_tenant: Tenant) -> None:
    foreign = SubscriptionFactory(customer=other_tenant.customer)
    changes = subscriptions_status_request(
        partner=tenant.partner, subscription_ids=[foreign.pk], wanted="suspended", reason="x", actor=None,
        source="collections",
    )  # fmt: skip
    assert changes == []
    assert _reload(foreign).status == Status.ACTIVE


def test_a_reason_is_required(tenant: Tenant) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    with pytest.raises(SubscriptionError, match="reason"):
        subscription_suspend(subscription=sub, reason="   ", actor=tenant.finance)
    assert _reload(sub).status == Status.ACTIVE


def test_record_backend_confirms_and_history_shows_microsofts_answer(tenant: Tenant, on_commit) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    with on_commit():
        change = subscription_suspend(subscription=sub, reason="Customer asked", actor=tenant.finance)
    assert change is not None
    change.refresh_from_db()
    assert change.state == State.CONFIRMED
    assert change.attempts == 1
    assert change.microsoft_response["backend"] == "record"
    sub = _reload(sub)
    assert (sub.status, sub.suspension_source) == (Status.SUSPENDED, "manual")
    history = list(SubscriptionStatusEvent.objects.filter(subscription=sub).order_by("pk"))
    assert [(e.from_status, e.to_status) for e in history] == [
        ("active", "suspension_pending"), ("suspension_pending", "suspended"),
    ]  # fmt: skip
    assert history[0].actor == tenant.finance
    assert history[1].microsoft_response["status"] == "suspended"
    assert AuditEvent.objects.filter(action="subscription.suspended", target_id=str(sub.pk)).count() == 1

    with on_commit():
        subscription_reactivate(subscription=sub, reason="Paid", actor=tenant.admin)
    sub = _reload(sub)
    assert (sub.status, sub.suspension_source) == (Status.ACTIVE, "")
    assert AuditEvent.objects.filter(action="subscription.reactivated", target_id=str(sub.pk)).count() == 1


def test_collections_never_undo_a_suspension_by_hand(tenant: Tenant, on_commit) -> None:
    manual = SubscriptionFactory(customer=tenant.customer)
    by_collections = SubscriptionFactory(customer=tenant.customer)
    with on_commit():
        subscription_suspend(subscription=manual, reason="Abuse report", actor=tenant.admin)
        subscriptions_status_request(
            partner=tenant.partner, subscription_ids=[by_collections.pk], wanted="suspended", reason="overdue",
            actor=None, source="collections",
        )  # fmt: skip
    with on_commit():
        changes = subscriptions_status_request(
            partner=tenant.partner, subscription_ids=[manual.pk, by_collections.pk], wanted="active",
            reason="Paid in full", actor=None, source="collections",
        )  # fmt: skip
    assert [c.subscription_id for c in changes] == [by_collections.pk]
    assert _reload(manual).status == Status.SUSPENDED
    assert _reload(by_collections).status == Status.ACTIVE
    # Staff may reactivate either.
    with on_commit():
        assert subscription_reactivate(subscription=manual, reason="Resolved", actor=tenant.admin) is not None
    assert _reload(manual).status == Status.ACTIVE


def test_reactivating_an_unsent_suspension_supersedes_it(tenant: Tenant, django_capture_on_commit_callbacks) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    with django_capture_on_commit_callbacks(execute=False):
        suspension = subscription_suspend(subscription=sub, reason="overdue", actor=None)
        reactivation = subscription_reactivate(subscription=sub, reason="paid after all", actor=None)
    assert suspension is not None
    assert reactivation is not None
    suspension.refresh_from_db()
    assert suspension.state == State.SUPERSEDED
    assert _reload(sub).status == Status.REACTIVATION_PENDING
    # The superseded change's task, if it still runs, does nothing.
    assert subscription_change_push(change_id=suspension.pk).state == State.SUPERSEDED
    assert subscription_change_push(change_id=reactivation.pk).state == State.CONFIRMED
    assert _reload(sub).status == Status.ACTIVE


def test_a_change_in_flight_is_not_overtaken(tenant: Tenant, django_capture_on_commit_callbacks) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    with django_capture_on_commit_callbacks(execute=False):
        change = subscription_suspend(subscription=sub, reason="overdue", actor=None)
    assert change is not None
    SubscriptionChange.objects.filter(pk=change.pk).update(state=State.IN_PROGRESS)
    assert subscription_reactivate(subscription=sub, reason="paid", actor=None) is None
    assert _reload(sub).status == Status.SUSPENSION_PENDING


def test_azure_plan_needs_the_step_in_azure_resource_manager(tenant: Tenant, on_commit) -> None:
    plan = azure_plan(customer=tenant.customer)
    with on_commit():
        change = subscription_suspend(subscription=plan, reason="overdue", actor=tenant.finance)
    assert change is not None
    change.refresh_from_db()
    assert (change.state, change.attempts) == (State.NEEDS_MANUAL_STEP, 0)
    assert change.last_error == "Azure plan: suspend in Azure Resource Manager"
    assert _reload(plan).status == Status.SUSPENSION_PENDING  # not pretending it is suspended
    # The step done, the plan itself is suspended through Partner Center (here the record-only backend).
    with on_commit():
        subscription_change_complete_manually(change=change, actor=tenant.admin, note="Disabled in ARM")
    assert _reload(plan).status == Status.SUSPENDED
    event = SubscriptionStatusEvent.objects.filter(subscription=plan).order_by("-pk").first()
    assert event is not None
    assert (event.actor, event.source) == (None, "record")
    step = AuditEvent.objects.get(action="subscription.azure_step_done")
    assert (step.actor, step.data["note"]) == (tenant.admin, "Disabled in ARM")


def test_a_lost_push_is_picked_up_by_the_sweep_exactly_once(tenant: Tenant, django_capture_on_commit_callbacks) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=False):  # committed; the task never ran
        change = subscription_suspend(subscription=sub, reason="overdue", actor=None)
    assert change is not None
    with clock.frozen(NOW + dt.timedelta(seconds=30)):
        assert subscription_changes_push_due() == []  # still the after-commit task's to do
    with clock.frozen(NOW + dt.timedelta(minutes=5)):
        assert subscription_changes_push_due() == [change.pk]
        assert subscription_changes_push_due() == []
    with clock.frozen(NOW + dt.timedelta(hours=5)):
        assert subscription_changes_push_due() == []
    change.refresh_from_db()
    assert (change.state, change.attempts) == (State.CONFIRMED, 1)
    assert _reload(sub).status == Status.SUSPENDED


def test_a_worker_that_died_mid_call_is_taken_over_after_its_lease(
    tenant: Tenant, django_capture_on_commit_callbacks
) -> None:
    sub = SubscriptionFactory(customer=tenant.customer)
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=False):
        change = subscription_suspend(subscription=sub, reason="overdue", actor=None)
    assert change is not None
    SubscriptionChange.objects.filter(pk=change.pk).update(
        state=State.IN_PROGRESS, attempts=1, next_attempt_at=NOW + dt.timedelta(minutes=10)
    )
    with clock.frozen(NOW + dt.timedelta(minutes=5)):
        assert subscription_changes_push_due() == []
    with clock.frozen(NOW + dt.timedelta(minutes=11)):
        assert subscription_changes_push_due() == [change.pk]
    change.refresh_from_db()
    assert (change.state, change.attempts) == (State.CONFIRMED, 2)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_callers_create_one_change(tenant: Tenant) -> None:
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    sub = SubscriptionFactory(customer=tenant.customer)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            barrier.wait()
            changes = subscriptions_status_request(
                partner=tenant.partner, subscription_ids=[sub.pk], wanted="suspended", reason="overdue",
                actor=None, source="collections",
            )  # fmt: skip
            results.append(len(changes))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [0, 1]
    assert SubscriptionChange.objects.filter(subscription=sub).count() == 1
    assert SubscriptionStatusEvent.objects.filter(subscription=sub, to_status="suspension_pending").count() == 1


def test_the_command_pushes_what_is_due(tenant: Tenant, django_capture_on_commit_callbacks) -> None:
    from io import StringIO

    from django.core.management import call_command

    sub = SubscriptionFactory(customer=tenant.customer)
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=False):
        change = subscription_suspend(subscription=sub, reason="overdue", actor=None)
    assert change is not None
    out = StringIO()
    call_command("push_subscription_changes", "--now", "--date", "2026-11-20T09:01:00+00:00", stdout=out)
    assert out.getvalue() == ""  # inside the grace period: still the after-commit task's
    call_command("push_subscription_changes", "--now", "--date", "2026-11-20T09:05:00+00:00", stdout=out)
    assert out.getvalue() == f"change {change.pk}: confirmed\n"
    assert _reload(sub).status == Status.SUSPENDED


def _written(tenant: Tenant, ids: list[int]) -> dict[str, object]:
    """What a request wrote for the subscriptions `ids`, by their place in the list and without what
    each write draws afresh (ids, request ids), so two partners' writes compare."""
    at = {pk: n for n, pk in enumerate(ids)}
    changes = {c.subscription_id: c for c in SubscriptionChange.objects.filter(partner=tenant.partner)}
    actor = {tenant.finance.pk: "finance", None: None}
    customer = {tenant.customer.pk: "customer"}
    return {
        "statuses": sorted((at[pk], status, source) for pk, status, source in Subscription.objects.filter(
            partner=tenant.partner).values_list("pk", "status", "suspension_source")),
        "changes": sorted(
            (at[c.subscription_id], c.wanted_status, c.source, c.reason, actor[c.actor_id], c.state, c.attempts,
             c.last_error, c.next_attempt_at, c.created_at, c.microsoft_response)
            for c in changes.values()
        ),
        "history": sorted(
            (at[e.subscription_id], e.from_status, e.to_status, e.reason, actor[e.actor_id], e.source,
             e.change_id == changes[e.subscription_id].pk, e.created_at)
            for e in SubscriptionStatusEvent.objects.filter(partner=tenant.partner)
        ),
        "audit": sorted(
            (at[int(a.target_id)], customer[a.customer_id], actor[a.actor_id], a.action, a.target_type,
             a.target_repr, a.created_at, sorted((k, v) for k, v in a.data.items() if k not in ("change", "request_id")),
             a.data["change"] == changes[int(a.target_id)].pk,
             a.data["request_id"] == str(changes[int(a.target_id)].request_id))
            for a in AuditEvent.objects.filter(partner=tenant.partner, action__startswith="subscription.")
        ),
    }  # fmt: skip


@pytest.mark.parametrize(("wanted", "source"), [("suspended", "collections"), ("active", "collections"),
                                                ("active", "manual"), ("deleted", "manual")])  # fmt: skip
def test_the_one_statement_write_and_the_embedded_modes_write_the_same_rows(
    tenant: Tenant, other_tenant: Tenant, monkeypatch, wanted: str, source: str
) -> None:
    """PostgreSQL writes a request's changes, history and audit rows in one statement; SQLite (the
    embedded mode) writes the same rows one by one. The same request through both writes the same."""
    require(connection.vendor == "postgresql", "the one-statement write is PostgreSQL's")
    from subscriptions.services import status as status_service

    def scene(c: object) -> list[int]:
        subs = [
            SubscriptionFactory(customer=c, product="Microsoft 365 E3", quantity=12),
            SubscriptionFactory(customer=c, status=Status.SUSPENDED, suspension_source="collections"),
            SubscriptionFactory(customer=c, status=Status.SUSPENDED, suspension_source="manual"),
            SubscriptionFactory(customer=c, status=Status.SUSPENSION_PENDING, suspension_source="collections"),
            SubscriptionFactory(customer=c, status=Status.REACTIVATION_PENDING),
            SubscriptionFactory(customer=c, status=Status.CANCELLED),
            azure_plan(customer=c),
            azure_plan(customer=c, status=Status.SUSPENDED, suspension_source="collections"),
        ]
        return [s.pk for s in subs]

    written = {}
    for write, t in (("one statement", tenant), ("row by row", other_tenant)):
        if write == "row by row":
            monkeypatch.setattr(status_service.connection, "vendor", "sqlite")
        with clock.frozen(NOW):
            ids = scene(t.customer)
            made = status_service.subscriptions_status_request_many(
                partner=t.partner, subscription_ids=ids, wanted=wanted, reason=f"{wanted} by {source}",
                actor=t.finance, source=source,
            )  # fmt: skip
        monkeypatch.undo()
        assert made > 0
        written[write] = _written(t, ids)
    assert written["one statement"] == written["row by row"]


def test_the_azure_plan_condition_picks_the_subscriptions_is_azure_plan_names(tenant: Tenant) -> None:
    c = tenant.customer
    subs = [
        azure_plan(customer=c),
        azure_plan(customer=c, product="Microsoft Azure", offer_id="dzh318z0bps6:0001"),  # by its product ID
        azure_plan(customer=c, product="AZURE PLAN for Contoso", offer_id="CFQ7TTC0LH18:0001"),  # by its name
        azure_plan(customer=c, product="Azure reserved VM instance", offer_id="DZH318Z0BPRJ:0001"),
        SubscriptionFactory(customer=c, product="Azure plan", offer_id="CFQ7TTC0LH18:0001"),  # not the Azure family
    ]
    condition = Subscription.azure_plan_condition()
    picked = set(Subscription.objects.filter(condition, pk__in=[s.pk for s in subs]).values_list("pk", flat=True))
    assert picked == {s.pk for s in subs if s.is_azure_plan}
    assert [s.is_azure_plan for s in subs] == [True, True, True, False, False]
