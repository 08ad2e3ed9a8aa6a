"""What collections will do next for a customer, and when: the overview's "next action" and the
customer's suspension date, decided by the run's own rules (billing.collections.rules), so the pages
say what the run will do."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from billing.collections import rules
from billing.collections.models import (
    CollectionStep,
)
from billing.invoicing.models import ZERO

if TYPE_CHECKING:
    from billing.collections.selectors import StepView

Action = CollectionStep.Action


@dataclass(frozen=True)
class NextAction:
    """What the run will do next for a customer, and on which day."""

    on: dt.date
    action: str
    offset_days: int  # the step's offset as the policy has it (without grace)
    invoice_id: int
    invoice_number: str

    @property
    def is_suspension(self) -> bool:
        return self.action == Action.SUSPEND


class OpenInvoice(NamedTuple):
    """An open invoice as the forecast reads it (a tuple: a page builds thousands of them)."""

    pk: int
    number: str
    due_date: dt.date
    balance: Decimal
    harshest: str = ""  # the invoice's dunning state (InvoiceDunning)
    final_notice_on: dt.date | None = None
    customer_suspended: bool = False  # its customer's (CustomerDunning)


def _overdue_on(invoices: Sequence[OpenInvoice]) -> Callable[[dt.date], Decimal]:
    """The overdue total of `invoices` on a given day (`is_past_due`: due before it), each answer a
    binary search over the due dates instead of a sum over every invoice."""
    by_due = sorted((i.due_date, i.balance) for i in invoices)
    dues = [due for due, _ in by_due]
    totals = [ZERO, *accumulate(balance for _, balance in by_due)]
    return lambda day: totals[bisect_left(dues, day)]


# The decisions already taken for a list of customers, by situation: (days overdue, grace, harshest step,
# days since the final notice, suspended, after a hold, exempt). Shared by the customers of one page.
# Past the policy's last step an invoice's decision no longer depends on how many days it is overdue
# (`rules.dunning_decision`: the due step is the last one and nothing is ahead but what the final notice
# waits for), so those days count as the last step's: the invoices long overdue, most of a page's,
# share a handful of situations.
Decisions = dict[tuple[int, int, str, int | None, bool, bool, bool], "rules.Decision[StepView]"]


def next_action(
    *,
    steps: Sequence[StepView],
    invoices: Sequence[OpenInvoice],
    sent: set[tuple[int, int, str]],
    today: dt.date,
    grace: int,
    min_amount: Decimal,
    exempt: bool,
    held_until: dt.date | None,
    decisions: Decisions | None = None,
) -> NextAction | None:
    """The earliest step the run will take for one of `invoices`: today's step if not sent yet, else
    the next one ahead, both as `rules.dunning_decision` (the run's own decision) gives them from the
    invoice's dunning state. Nothing is taken while a promise to pay holds (until its day inclusive);
    a step after the due date waits for the overdue total to reach the minimum (as far as the
    invoices open today tell). `decisions`: the decisions of the same policy already taken, by
    situation, for other customers (the policy's steps must be the same)."""
    start = max(today, held_until + dt.timedelta(days=1)) if held_until and held_until >= today else today
    best: NextAction | None = None
    overdue_on = _overdue_on(invoices)
    after_hold = held_until is not None and held_until < start
    taken: Decisions = {} if decisions is None else decisions
    last = max((rules.effective_offset(step, grace) for step in steps), default=0)

    for invoice in invoices:
        days = min((start - invoice.due_date).days, last)  # the same decision past the last step
        final_on = invoice.final_notice_on
        final_days = (start - final_on).days if final_on else None
        key = (days, grace, invoice.harshest, final_days, invoice.customer_suspended, after_hold, exempt)
        decision = taken.get(key)
        if decision is None:
            state = rules.DunningState(
                harshest=invoice.harshest, final_notice_days_ago=final_days, suspended=invoice.customer_suspended,
                after_hold=after_hold, exempt=exempt,
            )  # fmt: skip
            decision = taken[key] = rules.dunning_decision(steps, days, grace_days=grace, state=state)
        candidate: tuple[StepView, dt.date] | None = None
        due = decision.step
        if due is not None and (invoice.pk, due.offset_days, due.action) not in sent:
            candidate = (due, start)
        elif decision.ahead is not None:
            candidate = (decision.ahead[0], start + dt.timedelta(days=decision.ahead[1]))
        if candidate is None:
            continue
        step, on = candidate
        if step.offset_days > 0 and overdue_on(on) < min_amount:
            continue
        if best is None or (on, step.offset_days) < (best.on, best.offset_days):
            best = NextAction(on, step.action, step.offset_days, invoice.pk, invoice.number)
    return best


def next_suspension(
    *,
    steps: Sequence[StepView],
    invoices: Sequence[OpenInvoice],
    today: dt.date,
    grace: int,
    min_amount: Decimal,
    exempt: bool,
    held_until: dt.date | None,
) -> dt.date | None:
    """The first day the run would suspend, if nothing is paid meanwhile; None if it never would."""
    suspends = [s for s in steps if s.action == Action.SUSPEND]
    if exempt or not suspends:
        return None
    offset = rules.effective_offset(suspends[0], grace)
    gap = rules.suspension_gap(steps, grace_days=grace)
    start = max(today, held_until + dt.timedelta(days=1)) if held_until and held_until >= today else today
    after_hold = held_until is not None and held_until < start

    def suspension_day(invoice: OpenInvoice) -> dt.date:
        """As the run decides (rules.dunning_decision): a suspension follows the final notice by `gap` days."""
        final_on = invoice.final_notice_on
        state = rules.DunningState(
            harshest=invoice.harshest, final_notice_days_ago=(start - final_on).days if final_on else None,
            suspended=invoice.customer_suspended, after_hold=after_hold, exempt=exempt,
        )  # fmt: skip
        decision = rules.dunning_decision(steps, (start - invoice.due_date).days, grace_days=grace, state=state)
        if decision.step is not None and decision.step.action == Action.SUSPEND:
            return start
        if decision.ahead is not None and decision.ahead[0].action == Action.SUSPEND:
            return start + dt.timedelta(days=decision.ahead[1])
        day = max(start, invoice.due_date + dt.timedelta(days=offset))
        if decision.step is not None and decision.step.action == Action.FINAL_NOTICE:
            day = max(day, start + dt.timedelta(days=gap))
        return day

    overdue_on = _overdue_on(invoices)
    for day in sorted(suspension_day(i) for i in invoices):
        if overdue_on(day) >= min_amount:
            return day
    return None
