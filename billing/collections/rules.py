"""The collections policy's arithmetic, pure: no database, no clock. Used by the run and the pages.

- `days_overdue` is run date − due date: negative before the due date, 0 on it.
- A step's *effective offset* is its `offset_days`, plus the grace (policy grace days + the customer's
  extra grace days) when `offset_days > 0`. Steps on or before the due date are never moved.
- An invoice's *due step* is the LATEST step whose effective offset ≤ days overdue. Earlier steps
  that were missed (a pause, a promise to pay, a balance under the minimum) are not sent afterwards.
- The *next step* is the first step whose effective offset > days overdue, with the days until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class StepLike(Protocol):
    @property
    def offset_days(self) -> int: ...

    @property
    def action(self) -> str: ...


S = TypeVar("S", bound=StepLike)


def effective_offset(step: StepLike, grace_days: int = 0) -> int:
    """The day (relative to the due date) the step applies, grace included for steps after the due date."""
    return step.offset_days + grace_days if step.offset_days > 0 else step.offset_days


def _ordered(policy_steps: Iterable[S], grace_days: int) -> list[tuple[int, S]]:
    return sorted(((effective_offset(step, grace_days), step) for step in policy_steps), key=lambda pair: pair[0])


def due_step(policy_steps: Iterable[S], days_overdue: int, *, grace_days: int = 0) -> S | None:
    """The latest step whose effective offset ≤ `days_overdue`, or None before the first one."""
    found: S | None = None
    for offset, step in _ordered(policy_steps, grace_days):
        if offset > days_overdue:
            break
        found = step
    return found


def next_step(policy_steps: Iterable[S], days_overdue: int, *, grace_days: int = 0) -> tuple[S, int] | None:
    """The first step still ahead (effective offset > `days_overdue`) and the days until it, or None."""
    for offset, step in _ordered(policy_steps, grace_days):
        if offset > days_overdue:
            return step, offset - days_overdue
    return None


def step_windows(policy_steps: Sequence[S], *, grace_days: int = 0) -> list[tuple[S, int, int | None]]:
    """Each step with the range of days overdue for which it is the due step: [start, end), end None = open.

    Lets a caller select the invoices of one step with one range condition on the due date.
    """
    ordered = _ordered(policy_steps, grace_days)
    windows: list[tuple[S, int, int | None]] = []
    for index, (offset, step) in enumerate(ordered):
        end = ordered[index + 1][0] if index + 1 < len(ordered) else None
        if end is not None and end == offset:
            continue  # two steps on the same effective day: the later one in the policy wins
        windows.append((step, offset, end))
    return windows


# How harsh each action is (as billing.collections.models.ACTION_RANK; rules stay free of models).
RANK: dict[str, int] = {"remind": 1, "final_notice": 2, "suspend": 3}
FINAL_NOTICE, SUSPEND = "final_notice", "suspend"


@dataclass(frozen=True)
class DunningState:
    """What collections have done so far: the invoice's harshest step and its customer's suspension."""

    harshest: str = ""  # "" when nothing was sent yet
    final_notice_days_ago: int | None = None  # days since the invoice's final notice, if it had one
    suspended: bool = False  # the customer is suspended by collections
    after_hold: bool = False  # a promise to pay held the customer and has ended
    exempt: bool = False  # never suspended


@dataclass(frozen=True)
class Decision(Generic[S]):
    """What the run does for one invoice on a day: `step` today (None: nothing), `ahead` the next step
    it will take and in how many days (None: nothing more), and `reason` when a due step is held back."""

    step: S | None
    ahead: tuple[S, int] | None
    reason: str = ""

    @property
    def notify(self) -> bool:
        return self.step is not None


def _gap(ordered: list[tuple[int, S]]) -> tuple[S | None, int]:
    """The policy's final notice step and the days from it to the suspension (0 without either)."""
    finals = [(offset, step) for offset, step in ordered if step.action == FINAL_NOTICE]
    suspends = [(offset, step) for offset, step in ordered if step.action == SUSPEND]
    if not finals or not suspends:
        return (finals[-1][1] if finals else None), 0
    return finals[-1][1], max(1, suspends[0][0] - finals[-1][0])


def suspension_gap(policy_steps: Iterable[S], *, grace_days: int = 0) -> int:
    """The days from the final notice to the suspension (0 when the policy lacks either)."""
    return _gap(_ordered(policy_steps, grace_days))[1]


def _takeable(step: StepLike, harshest: int, state: DunningState) -> bool:
    """A step may be taken: never milder than the harshest so far, no second final notice, nothing
    announcing a suspension to a suspended customer, no suspension of an exempt one."""
    rank = RANK[step.action]
    if rank < harshest or (rank == harshest and step.action == FINAL_NOTICE):
        return False
    if state.suspended and rank < RANK[SUSPEND]:
        return False
    return not (state.exempt and step.action == SUSPEND)


def dunning_decision(
    policy_steps: Iterable[S], days_overdue: int, *, grace_days: int = 0, state: DunningState | None = None
) -> Decision[S]:
    """The one decision the run takes and the pages announce, for one invoice on one day.

    - The due step is taken unless it is milder than the harshest the invoice has had (after a policy
      change), or the customer is suspended and it is not the suspension, or the customer is exempt.
    - A suspension follows the invoice's final notice by the policy's days between the two steps: an
      invoice that comes out of a promise to pay at or past the suspension day without a final notice
      gets the final notice first, and the suspension those days later.
    The minimum overdue amount and the hold itself are the caller's (they depend on the customer).
    """
    state = state or DunningState()
    ordered = _ordered(policy_steps, grace_days)
    final, gap = _gap(ordered)
    harshest = RANK.get(state.harshest, 0)
    due = due_step(policy_steps, days_overdue, grace_days=grace_days)

    def ahead_after(level: int, *, suspension_in: int | None = None) -> tuple[S, int] | None:
        for offset, step in ordered:
            if offset <= days_overdue or not _takeable(step, level, state):
                continue
            days = offset - days_overdue
            if step.action == SUSPEND and suspension_in is not None:
                days = max(days, suspension_in)
            return step, days
        return None

    waited = None if state.final_notice_days_ago is None else gap - state.final_notice_days_ago
    if due is None:
        return Decision(None, ahead_after(harshest, suspension_in=waited))
    if due.action == SUSPEND and final is not None and gap and not state.suspended and not state.exempt:
        if harshest < RANK[FINAL_NOTICE] and state.after_hold:
            suspension = next(step for _o, step in ordered if step.action == SUSPEND)
            return Decision(final, (suspension, gap), "final_notice_first")
        if waited is not None and waited > 0:
            suspension = next(step for _o, step in ordered if step.action == SUSPEND)
            return Decision(None, (suspension, waited), "after_final_notice")
    if not _takeable(due, harshest, state):
        reason = "exempt" if state.exempt and due.action == SUSPEND else "already_further"
        return Decision(None, ahead_after(harshest, suspension_in=waited), reason)
    level = max(harshest, RANK[due.action])
    suspension_in = gap if due.action == FINAL_NOTICE else waited
    return Decision(due, ahead_after(level, suspension_in=suspension_in))
