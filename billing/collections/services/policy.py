"""The collections policy of a partner and the promises to pay staff grant (see collections.py for the rules)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from billing.collections.errors import CollectionHoldInvalid, CollectionPolicyInvalid
from billing.collections.models import DEFAULT_STEPS, CollectionPolicy, CollectionStep
from billing.invoicing.models import ZERO
from partner_portal import clock
from partner_portal.audit import audit_record
from partner_portal.models import Customer, Partner, User
from partner_portal.money import CURRENCY_CHOICES, quantize

OFFSET_MIN, OFFSET_MAX = -60, 365


@dataclass(frozen=True)
class StepInput:
    offset_days: int
    action: str


def collection_policy_get(*, partner: Partner) -> CollectionPolicy:
    """The partner's policy; the default one (DEFAULT_STEPS, minimum 10.00) is created on first use."""
    policy = CollectionPolicy.objects.filter(partner=partner).first()
    if policy is not None:
        return policy
    with transaction.atomic():
        policy, created = CollectionPolicy.objects.get_or_create(partner=partner)
        if created:
            CollectionStep.objects.bulk_create(
                CollectionStep(partner=partner, policy=policy, offset_days=offset, action=action)
                for offset, action in DEFAULT_STEPS
            )
    return policy


def _policy_snapshot(policy: CollectionPolicy, steps: Iterable[CollectionStep | StepInput]) -> dict[str, Any]:
    return {
        "min_amount": str(policy.min_amount),
        "min_amounts": dict(policy.min_amounts or {}),
        "grace_days": policy.grace_days,
        "suspend_scope": policy.suspend_scope,
        "reactivate_automatically": policy.reactivate_automatically,
        "steps": [{"offset_days": s.offset_days, "action": s.action} for s in steps],
    }


def _minimums_errors(min_amounts: Mapping[str, Decimal]) -> list[str]:
    errors: list[str] = []
    known = {code for code, _label in CURRENCY_CHOICES}
    for currency, amount in min_amounts.items():
        if currency not in known:
            errors.append(_("Unknown currency “%(currency)s”.") % {"currency": currency})
        elif not isinstance(amount, Decimal) or amount < ZERO:
            errors.append(_("Enter a minimum of zero or more for %(currency)s.") % {"currency": currency})
        elif quantize(amount, currency) != amount:
            errors.append(
                _("Enter the minimum for %(currency)s with at most its currency's decimal places.")
                % {"currency": currency}
            )
    return errors


def _policy_errors(
    *, min_amount: Decimal, grace_days: int, suspend_scope: str, steps: Sequence[StepInput],
    min_amounts: Mapping[str, Decimal] | None = None,
) -> dict[str, list[str]]:  # fmt: skip
    errors: dict[str, list[str]] = defaultdict(list)
    errors["min_amounts"].extend(_minimums_errors(min_amounts or {}))
    if not isinstance(min_amount, Decimal) or min_amount < ZERO:
        errors["min_amount"].append(_("Enter a minimum amount of zero or more."))
    elif quantize(min_amount, "USD") != min_amount:
        errors["min_amount"].append(_("Enter the minimum amount with at most two decimal places."))
    if not 0 <= grace_days <= 90:
        errors["grace_days"].append(_("Grace days must be between 0 and 90."))
    if suspend_scope not in CollectionPolicy.SuspendScope.values:
        errors["suspend_scope"].append(_("Choose what is suspended."))
    step_errors = errors["steps"]
    if not steps:
        step_errors.append(_("Add at least one step."))
    actions = CollectionStep.Action.values
    offsets = [s.offset_days for s in steps]
    for s in steps:
        if s.action not in actions:
            step_errors.append(_("Unknown action “%(action)s”.") % {"action": s.action})
        if not OFFSET_MIN <= s.offset_days <= OFFSET_MAX:
            step_errors.append(
                _("A step must fall between %(min)s and %(max)s days from the due date (got %(offset)s).")
                % {"min": OFFSET_MIN, "max": OFFSET_MAX, "offset": s.offset_days}
            )
    for offset in sorted({o for o in offsets if offsets.count(o) > 1}):
        step_errors.append(_("Two steps fall on the same day (%(offset)s).") % {"offset": offset})
    if sum(s.action == CollectionStep.Action.FINAL_NOTICE for s in steps) > 1:
        step_errors.append(_("A policy can have only one final notice."))
    suspends = [s for s in steps if s.action == CollectionStep.Action.SUSPEND]
    if len(suspends) > 1:
        step_errors.append(_("A policy can have only one suspension step."))
    elif suspends:
        suspend = suspends[0]
        if suspend.offset_days < 1:
            step_errors.append(_("Suspension can only come after the due date (1 day or more)."))
        if any(s.offset_days >= suspend.offset_days for s in steps if s is not suspend):
            step_errors.append(_("Suspension must be the last step: every reminder and notice comes before it."))
    return {name: messages for name, messages in errors.items() if messages}


@transaction.atomic
def collection_policy_update(
    *,
    partner: Partner,
    actor: User | None,
    min_amount: Decimal,
    grace_days: int,
    suspend_scope: str,
    reactivate_automatically: bool,
    steps: Sequence[StepInput],
    min_amounts: Mapping[str, Decimal] | None = None,
) -> CollectionPolicy:
    """Replace the partner's policy and its steps as one change, audited with before and after.

    `min_amounts` holds the minimum of each currency that has its own (10.00 RUB is not 10.00 USD);
    the others use `min_amount`. Raises CollectionPolicyInvalid with messages per field ("steps",
    "min_amount", "min_amounts", "grace_days", "suspend_scope"); nothing changes then. Notices
    already sent stay as they are.
    """
    errors = _policy_errors(
        min_amount=min_amount, grace_days=grace_days, suspend_scope=suspend_scope, steps=steps, min_amounts=min_amounts
    )
    if errors:
        raise CollectionPolicyInvalid(errors)
    policy = collection_policy_get(partner=partner)
    policy = CollectionPolicy.objects.select_for_update().get(pk=policy.pk)
    before = _policy_snapshot(policy, policy.steps.all())
    policy.min_amount, policy.grace_days = min_amount, grace_days
    policy.min_amounts = {c: str(quantize(a, c)) for c, a in sorted((min_amounts or {}).items())}
    policy.suspend_scope, policy.reactivate_automatically = suspend_scope, reactivate_automatically
    policy.updated_at, policy.updated_by = clock.now(), actor
    policy.save(
        update_fields=[
            "min_amount",
            "min_amounts",
            "grace_days",
            "suspend_scope",
            "reactivate_automatically",
            "updated_at",
            "updated_by",
        ]
    )
    policy.steps.all().delete()
    ordered = sorted(steps, key=lambda s: s.offset_days)
    CollectionStep.objects.bulk_create(
        CollectionStep(partner=partner, policy=policy, offset_days=s.offset_days, action=s.action) for s in ordered
    )
    audit_record(
        partner=partner, actor=actor, action="collections.policy_updated", target=policy,
        data={"before": before, "after": _policy_snapshot(policy, ordered)},
    )  # fmt: skip
    return policy


@transaction.atomic
def customer_collections_hold(*, customer: Customer, actor: User, until: dt.date, reason: str) -> Customer:
    """Record a promise to pay: no notice and no suspension up to and including `until`.

    The next run also reactivates what collections suspended (when the policy reactivates
    automatically). Audited with the reason.
    """
    today = clock.today(customer.partner.time_zone)
    if until < today:
        raise CollectionHoldInvalid(_("The promise to pay must run until today or a later date."))
    if until > today + dt.timedelta(days=366):
        raise CollectionHoldInvalid(_("A promise to pay can last at most a year."))
    if not reason.strip():
        raise CollectionHoldInvalid(_("Give a reason for the promise to pay."))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    previous = customer.promise_to_pay_until
    customer.promise_to_pay_until = until
    customer.save(update_fields=["promise_to_pay_until"])
    audit_record(
        partner=customer.partner, customer=customer, actor=actor, action="collections.hold_granted", target=customer,
        data={"until": until.isoformat(), "previous": previous.isoformat() if previous else None, "reason": reason.strip()},
    )  # fmt: skip
    return customer
