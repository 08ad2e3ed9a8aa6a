"""The overdue total that gates a step after the due date, worked out by a binary search over the
due dates, agrees with summing every invoice due before the day, on every day around them; the next
action of a page's customers, with decisions shared between them, is each one's own."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from billing.collections import rules
from billing.collections.models import DEFAULT_STEPS
from billing.collections.next_steps import Decisions, NextAction, OpenInvoice, _overdue_on, next_action
from billing.collections.selectors import StepView
from billing.invoicing.models import ZERO, is_past_due


def test_the_overdue_total_on_any_day_is_the_sum_of_the_invoices_due_before_it() -> None:
    rng = random.Random(20261206)  # noqa: S311 - test data, reproducible
    start = dt.date(2026, 1, 1)
    invoices = [
        OpenInvoice(
            pk, f"INV-{pk}", start + dt.timedelta(days=rng.randrange(60)), Decimal(rng.randrange(1, 100_000)) / 100
        )
        for pk in range(400)
    ]  # several invoices share a due date
    overdue_on = _overdue_on(invoices)
    for offset in range(-2, 63):
        day = start + dt.timedelta(days=offset)
        assert overdue_on(day) == sum((i.balance for i in invoices if is_past_due(i.due_date, day)), ZERO), day
    assert _overdue_on([])(start) == ZERO


def _next_action_one_by_one(*, steps, invoices, sent, today, grace, min_amount, exempt, held_until):
    """The next action as it was worked out before: every invoice's own decision, none shared."""
    start = max(today, held_until + dt.timedelta(days=1)) if held_until and held_until >= today else today
    best = None
    for invoice in invoices:
        final_on = invoice.final_notice_on
        state = rules.DunningState(
            harshest=invoice.harshest, final_notice_days_ago=(start - final_on).days if final_on else None,
            suspended=invoice.customer_suspended, after_hold=held_until is not None and held_until < start,
            exempt=exempt,
        )  # fmt: skip
        decision = rules.dunning_decision(steps, (start - invoice.due_date).days, grace_days=grace, state=state)
        due = decision.step
        if due is not None and (invoice.pk, due.offset_days, due.action) not in sent:
            step, on = due, start
        elif decision.ahead is not None:
            step, on = decision.ahead[0], start + dt.timedelta(days=decision.ahead[1])
        else:
            continue
        overdue = sum((i.balance for i in invoices if is_past_due(i.due_date, on)), ZERO)
        if step.offset_days > 0 and overdue < min_amount:
            continue
        if best is None or (on, step.offset_days) < (best.on, best.offset_days):
            best = NextAction(on, step.action, step.offset_days, invoice.pk, invoice.number)
    return best


def test_decisions_shared_across_a_page_give_each_customer_the_next_action_of_its_own_invoices() -> None:
    rng = random.Random(20261207)  # noqa: S311 - test data, reproducible
    today = dt.date(2026, 12, 6)
    steps = [StepView(offset, str(action)) for offset, action in DEFAULT_STEPS]
    harshest = ["", "remind", "final_notice", "suspend"]
    decisions: Decisions = {}  # shared by every customer, as on a page
    decided = 0
    for customer in range(300):
        suspended = rng.random() < 0.2
        invoices = []
        for n in range(rng.randrange(1, 40)):
            due = today - dt.timedelta(days=rng.randrange(-20, 400))
            final_on = today - dt.timedelta(days=rng.randrange(0, 60)) if rng.random() < 0.4 else None
            invoices.append(
                OpenInvoice(customer * 100 + n, f"INV-{customer}-{n}", due, Decimal(rng.randrange(1, 500)),
                            rng.choice(harshest), final_on, suspended)
            )  # fmt: skip
        invoices.sort(key=lambda i: (i.due_date, i.pk))
        decided += len(invoices)
        sent = {(i.pk, s.offset_days, s.action) for i in invoices for s in steps if rng.random() < 0.3}
        terms = {
            "grace": rng.choice([0, 0, 3]), "min_amount": Decimal(rng.choice([10, 10, 300])),
            "exempt": rng.random() < 0.1,
            "held_until": today + dt.timedelta(days=rng.randrange(-5, 5)) if rng.random() < 0.15 else None,
        }  # fmt: skip
        expected = _next_action_one_by_one(steps=steps, invoices=invoices, sent=sent, today=today, **terms)
        shared = next_action(steps=steps, invoices=invoices, sent=sent, today=today, decisions=decisions, **terms)
        assert shared == expected, customer
    assert len(decisions) < decided / 3  # far fewer decisions than invoices
