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
from typing import Protocol, TypeVar


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
