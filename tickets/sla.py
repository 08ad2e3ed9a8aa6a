"""Business time on a support offering's calendar: its hours of service, time zone and holidays.

Pure functions of the offering and the datetimes given (the holidays are read once per offering
instance). Hours are wall-clock times in the offering's time zone, so a desk open 09:00-18:00 in
Europe/Berlin stays open 09:00-18:00 local across daylight-saving changes; every sum is done in UTC so
that a DST night counts its real length. Results are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from tickets.models import SupportOffering

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar with no hours at all has no business time: give up after this many days.
MAX_DAYS = 800


class NoBusinessHours(ValueError):
    """The offering's calendar has no hours of service, so no business time can be counted."""


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    hours: dict[str, list[tuple[dt.time, dt.time | None]]]  # end None means midnight (24:00)
    holidays: frozenset[dt.date]

    def periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's business periods as UTC datetimes, in order."""
        if day in self.holidays:
            return []
        result = []
        for start, end in self.hours.get(WEEKDAYS[day.weekday()], []):
            begin = dt.datetime.combine(day, start, tzinfo=self.zone)
            if end is None:
                finish = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=self.zone)
            else:
                finish = dt.datetime.combine(day, end, tzinfo=self.zone)
            result.append((begin.astimezone(dt.UTC), finish.astimezone(dt.UTC)))
        return result

    def walk(self, at: dt.datetime, days: int = MAX_DAYS) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Business periods that end after `at`, from `at` on (the first one clipped to start at `at`)."""
        at = at.astimezone(dt.UTC)
        day = at.astimezone(self.zone).date() - dt.timedelta(days=1)  # a period of the day before may run late
        for offset in range(days + 1):
            for begin, finish in self.periods(day + dt.timedelta(days=offset)):
                if finish > at:
                    yield max(begin, at), finish
        raise NoBusinessHours("the support offering has no hours of service")


def _parse(value: str) -> dt.time | None:
    if value == "24:00":
        return None
    hour, minute = value.split(":")
    return dt.time(int(hour), int(minute))


def calendar(offering: SupportOffering) -> Calendar:
    """The offering's calendar, built once per offering instance."""
    cached: Calendar | None = getattr(offering, "_sla_calendar", None)
    if cached is not None:
        return cached
    hours = {
        day: sorted((_parse(start), _parse(end)) for start, end in (offering.hours or {}).get(day, []))
        for day in WEEKDAYS
    }
    holidays = frozenset(offering.holidays.values_list("date", flat=True)) if offering.pk else frozenset()
    result = Calendar(
        zone=ZoneInfo(offering.time_zone),
        hours={day: [(start or dt.time(0), end) for start, end in periods] for day, periods in hours.items()},
        holidays=holidays,
    )
    offering._sla_calendar = result  # type: ignore[attr-defined]  # a per-instance cache
    return result


def is_business_time(offering: SupportOffering, at: dt.datetime) -> bool:
    """True when `at` falls within the hours of service (start included, end excluded)."""
    at = at.astimezone(dt.UTC)
    day = at.astimezone(calendar(offering).zone).date()
    return any(begin <= at < finish for begin, finish in calendar(offering).periods(day))


def next_business_time(offering: SupportOffering, at: dt.datetime) -> dt.datetime:
    """`at` itself if it is business time, else the start of the next period of service."""
    for begin, _finish in calendar(offering).walk(at):
        return begin
    raise NoBusinessHours("the support offering has no hours of service")  # pragma: no cover - walk raises


def add_business_seconds(offering: SupportOffering, start: dt.datetime, seconds: int) -> dt.datetime:
    """The moment `seconds` of business time after `start`."""
    if seconds <= 0:
        return start.astimezone(dt.UTC)
    remaining = dt.timedelta(seconds=seconds)
    for begin, finish in calendar(offering).walk(start):
        if remaining <= finish - begin:
            return begin + remaining
        remaining -= finish - begin
    raise NoBusinessHours("the support offering has no hours of service")  # pragma: no cover - walk raises


def add_business_minutes(offering: SupportOffering, start: dt.datetime, minutes: int) -> dt.datetime:
    """The moment `minutes` of business time after `start` (an SLA due time)."""
    return add_business_seconds(offering, start, minutes * 60)


def business_seconds_between(offering: SupportOffering, start: dt.datetime, end: dt.datetime) -> int:
    """Business seconds from `start` to `end`; 0 when end is not after start."""
    end = end.astimezone(dt.UTC)
    if end <= start:
        return 0
    total = dt.timedelta()
    try:
        for begin, finish in calendar(offering).walk(start, days=(end - start).days + 3):
            if begin >= end:
                break
            total += min(finish, end) - begin
    except NoBusinessHours:
        pass  # the span ended before the walk found another period
    return int(total.total_seconds())


def business_minutes_between(offering: SupportOffering, start: dt.datetime, end: dt.datetime) -> int:
    """Whole business minutes from `start` to `end` (rounded down)."""
    return business_seconds_between(offering, start, end) // 60
