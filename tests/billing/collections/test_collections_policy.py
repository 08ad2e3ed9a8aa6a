"""The collections policy (defaults, validation, audit), promises to pay, and the pure step rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.collections.errors import CollectionHoldInvalid, CollectionPolicyInvalid
from billing.collections.models import DEFAULT_STEPS, CollectionPolicy, CollectionStep
from billing.collections.rules import due_step, effective_offset, next_step, step_windows
from billing.collections.services import (
    StepInput,
    collection_policy_get,
    collection_policy_update,
    customer_collections_hold,
)
from partner_portal import clock
from partner_portal.models import AuditEvent

DEFAULT = [StepInput(offset, action) for offset, action in DEFAULT_STEPS]


def _update(partner, steps=DEFAULT, **fields):
    values = {"min_amount": Decimal("10.00"), "grace_days": 0, "suspend_scope": "overdue_invoices",
              "reactivate_automatically": True, **fields}  # fmt: skip
    return collection_policy_update(partner=partner, actor=None, steps=steps, **values)


@pytest.mark.django_db
def test_the_default_policy_is_made_once(tenant) -> None:
    policy = collection_policy_get(partner=tenant.partner)
    again = collection_policy_get(partner=tenant.partner)
    assert policy.pk == again.pk
    assert list(policy.steps.values_list("offset_days", "action")) == [
        (-3, "remind"), (0, "remind"), (7, "remind"), (14, "remind"), (21, "final_notice"), (30, "suspend"),
    ]  # fmt: skip
    assert (policy.min_amount, policy.grace_days, policy.suspend_scope, policy.reactivate_automatically) == (
        Decimal("10.00"), 0, "overdue_invoices", True,
    )  # fmt: skip
    assert CollectionStep.objects.filter(partner=tenant.partner).count() == 6


@pytest.mark.django_db
def test_updating_replaces_the_steps_and_audits_before_and_after(tenant) -> None:
    collection_policy_get(partner=tenant.partner)
    steps = [StepInput(10, "remind"), StepInput(0, "remind"), StepInput(45, "suspend"), StepInput(30, "final_notice")]
    policy = collection_policy_update(
        partner=tenant.partner, actor=tenant.admin, min_amount=Decimal("25.50"), grace_days=3, suspend_scope="all",
        reactivate_automatically=False, steps=steps,
    )  # fmt: skip
    assert list(policy.steps.values_list("offset_days", "action")) == [
        (0, "remind"), (10, "remind"), (30, "final_notice"), (45, "suspend"),
    ]  # fmt: skip
    assert (policy.min_amount, policy.grace_days, policy.suspend_scope, policy.updated_by) == (
        Decimal("25.50"), 3, "all", tenant.admin,
    )  # fmt: skip
    event = AuditEvent.objects.get(action="collections.policy_updated")
    assert event.actor == tenant.admin
    assert event.data["before"]["min_amount"] == "10.00"
    assert event.data["before"]["steps"][0] == {"offset_days": -3, "action": "remind"}
    assert event.data["after"] == {
        "min_amount": "25.50", "min_amounts": {}, "grace_days": 3, "suspend_scope": "all", "reactivate_automatically": False,
        "steps": [{"offset_days": 0, "action": "remind"}, {"offset_days": 10, "action": "remind"},
                  {"offset_days": 30, "action": "final_notice"}, {"offset_days": 45, "action": "suspend"}],
    }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("steps", "fields", "errors"),
    [
        ([], {}, {"steps": ["Add at least one step."]}),
        ([StepInput(7, "remind"), StepInput(7, "final_notice")], {}, {"steps": ["Two steps fall on the same day (7)."]}),
        ([StepInput(-61, "remind")], {},
         {"steps": ["A step must fall between -60 and 365 days from the due date (got -61)."]}),
        ([StepInput(366, "remind")], {},
         {"steps": ["A step must fall between -60 and 365 days from the due date (got 366)."]}),
        ([StepInput(7, "final_notice"), StepInput(14, "final_notice")], {},
         {"steps": ["A policy can have only one final notice."]}),
        ([StepInput(30, "suspend"), StepInput(40, "suspend")], {},
         {"steps": ["A policy can have only one suspension step."]}),
        ([StepInput(0, "suspend")], {}, {"steps": ["Suspension can only come after the due date (1 day or more)."]}),
        ([StepInput(30, "suspend"), StepInput(35, "remind")], {},
         {"steps": ["Suspension must be the last step: every reminder and notice comes before it."]}),
        ([StepInput(7, "call")], {}, {"steps": ["Unknown action “call”."]}),
        (DEFAULT, {"min_amount": Decimal("-1.00")}, {"min_amount": ["Enter a minimum amount of zero or more."]}),
        (DEFAULT, {"min_amount": Decimal("1.005")},
         {"min_amount": ["Enter the minimum amount with at most two decimal places."]}),
        (DEFAULT, {"grace_days": 91}, {"grace_days": ["Grace days must be between 0 and 90."]}),
        (DEFAULT, {"suspend_scope": "some"}, {"suspend_scope": ["Choose what is suspended."]}),
    ],
)  # fmt: skip
def test_an_invalid_policy_is_refused_with_a_message_per_field(tenant, steps, fields, errors) -> None:
    collection_policy_get(partner=tenant.partner)
    with pytest.raises(CollectionPolicyInvalid) as caught:
        _update(tenant.partner, steps, **fields)
    assert caught.value.errors == errors
    policy = CollectionPolicy.objects.get(partner=tenant.partner)
    assert policy.steps.count() == 6
    assert policy.min_amount == Decimal("10.00")
    assert not AuditEvent.objects.filter(action="collections.policy_updated").exists()


@pytest.mark.django_db
def test_a_policy_without_suspension_is_fine(tenant) -> None:
    policy = _update(tenant.partner, [StepInput(7, "remind"), StepInput(14, "final_notice")])
    assert policy.steps.count() == 2


@pytest.mark.django_db
def test_a_promise_to_pay_is_recorded_and_audited(tenant) -> None:
    with clock.frozen(dt.date(2026, 12, 1)):
        customer = customer_collections_hold(
            customer=tenant.customer, actor=tenant.finance, until=dt.date(2026, 12, 15), reason="Paying on the 15th"
        )
    customer.refresh_from_db()
    assert customer.promise_to_pay_until == dt.date(2026, 12, 15)
    event = AuditEvent.objects.get(action="collections.hold_granted")
    assert (event.actor, event.customer, event.data) == (
        tenant.finance, tenant.customer, {"until": "2026-12-15", "previous": None, "reason": "Paying on the 15th"},
    )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("until", "reason", "message"), [
    (dt.date(2026, 11, 30), "Paying soon", "The promise to pay must run until today or a later date."),
    (dt.date(2028, 1, 1), "Paying later", "A promise to pay can last at most a year."),
    (dt.date(2026, 12, 15), "  ", "Give a reason for the promise to pay."),
])  # fmt: skip
def test_a_bad_promise_to_pay_is_refused(tenant, until, reason, message) -> None:
    with clock.frozen(dt.date(2026, 12, 1)), pytest.raises(CollectionHoldInvalid, match=message):
        customer_collections_hold(customer=tenant.customer, actor=tenant.finance, until=until, reason=reason)
    tenant.customer.refresh_from_db()
    assert tenant.customer.promise_to_pay_until is None


# --- The pure rules -----------------------------------------------------------------------------------

STEPS = [StepInput(offset, action) for offset, action in DEFAULT_STEPS]


@pytest.mark.parametrize(
    ("days", "grace", "due", "ahead"),
    [
        (-10, 0, None, ((-3, "remind"), 7)),
        (-3, 0, (-3, "remind"), ((0, "remind"), 3)),
        (0, 0, (0, "remind"), ((7, "remind"), 7)),
        (13, 0, (7, "remind"), ((14, "remind"), 1)),
        (30, 0, (30, "suspend"), None),
        (7, 5, (0, "remind"), ((7, "remind"), 5)),
        (12, 5, (7, "remind"), ((14, "remind"), 7)),
        (-3, 5, (-3, "remind"), ((0, "remind"), 3)),  # steps up to the due date never move
        (34, 5, (21, "final_notice"), ((30, "suspend"), 1)),
    ],
)
def test_due_and_next_step(days, grace, due, ahead) -> None:
    step = due_step(STEPS, days, grace_days=grace)
    assert ((step.offset_days, step.action) if step else None) == due
    found = next_step(STEPS, days, grace_days=grace)
    assert (((found[0].offset_days, found[0].action), found[1]) if found else None) == ahead


def test_effective_offsets_and_windows() -> None:
    assert [effective_offset(s, 2) for s in STEPS] == [-3, 0, 9, 16, 23, 32]
    windows = [(s.offset_days, start, end) for s, start, end in step_windows(STEPS, grace_days=2)]
    assert windows == [(-3, -3, 0), (0, 0, 9), (7, 9, 16), (14, 16, 23), (21, 23, 32), (30, 32, None)]
