"""The one clock. Services, jobs and tests read the time here, never from datetime or timezone directly.

Tests and hand-run jobs pin it with `frozen(...)`; jobs that take `--date` pass the date explicitly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.utils import timezone

_state = threading.local()


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC), or the pinned time inside `frozen()`."""
    pinned: dt.datetime | None = getattr(_state, "pinned", None)
    return pinned if pinned is not None else timezone.now()


def today(tz: str | dt.tzinfo | None = None) -> dt.date:
    """Today's date in the given time zone (a partner's), or in the portal's default time zone."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or timezone.get_default_timezone())
    return now().astimezone(zone).date()


@contextlib.contextmanager
def frozen(at: dt.datetime | dt.date) -> Iterator[dt.datetime]:
    """Pin the clock to `at` (a date means noon UTC of that day) for the current thread."""
    if not isinstance(at, dt.datetime):
        at = dt.datetime.combine(at, dt.time(12, 0), tzinfo=dt.UTC)
    if timezone.is_naive(at):
        raise ValueError("frozen() needs a timezone-aware datetime")
    previous = getattr(_state, "pinned", None)
    _state.pinned = at
    try:
        yield at
    finally:
        _state.pinned = previous
