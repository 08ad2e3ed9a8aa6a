"""The SLA clock: business time across nights, weekends, holidays, time zones and DST (exact datetimes)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.factories.tickets import offering as make_offering
from tickets import sla
from tickets.models import SupportOffering, default_hours

UTC = dt.UTC


def at(y: int, m: int, d: int, hh: int, mm: int = 0, tz: str = "UTC") -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz))


def desk(time_zone: str = "UTC", hours: dict[str, list[list[str]]] | None = None) -> SupportOffering:
    """An unsaved offering: no holidays, nothing read from the database."""
    return SupportOffering(time_zone=time_zone, hours=hours or default_hours())


def test_within_the_day() -> None:
    # Tuesday 1 December 2026, desk open 09:00-18:00 UTC.
    assert sla.add_business_minutes(desk(), at(2026, 12, 1, 10), 60) == at(2026, 12, 1, 11)


def test_across_the_night() -> None:
    assert sla.add_business_minutes(desk(), at(2026, 12, 1, 17, 30), 60) == at(2026, 12, 2, 9, 30)


def test_across_the_weekend() -> None:
    # Friday 17:00 + 2 h: one hour on Friday, one on Monday.
    assert sla.add_business_minutes(desk(), at(2026, 12, 4, 17), 120) == at(2026, 12, 7, 10)
    assert sla.business_minutes_between(desk(), at(2026, 12, 4, 17), at(2026, 12, 7, 10)) == 120


def test_opened_on_saturday_starts_on_monday_morning() -> None:
    assert sla.next_business_time(desk(), at(2026, 12, 5, 10)) == at(2026, 12, 7, 9)
    assert sla.add_business_minutes(desk(), at(2026, 12, 5, 10), 60) == at(2026, 12, 7, 10)
    assert sla.business_minutes_between(desk(), at(2026, 12, 5, 10), at(2026, 12, 6, 23)) == 0


def test_next_business_time_is_the_moment_itself_within_hours() -> None:
    assert sla.next_business_time(desk(), at(2026, 12, 1, 12, 34)) == at(2026, 12, 1, 12, 34)
    assert sla.next_business_time(desk(), at(2026, 12, 1, 18)) == at(2026, 12, 2, 9)


def test_is_business_time_includes_the_opening_and_excludes_the_closing_minute() -> None:
    assert sla.is_business_time(desk(), at(2026, 12, 1, 9)) is True
    assert sla.is_business_time(desk(), at(2026, 12, 1, 17, 59)) is True
    assert sla.is_business_time(desk(), at(2026, 12, 1, 18)) is False
    assert sla.is_business_time(desk(), at(2026, 12, 5, 12)) is False  # Saturday


def test_a_long_target_spans_several_days() -> None:
    # 1440 business minutes from Tuesday 10:00: 480 on Tuesday, 540 on Wednesday, 420 on Thursday.
    assert sla.add_business_minutes(desk(), at(2026, 12, 1, 10), 1440) == at(2026, 12, 3, 16)


def test_split_day_skips_the_lunch_break() -> None:
    hours = {**default_hours(), "tue": [["13:00", "17:00"], ["09:00", "12:00"]]}
    office = desk(hours=hours)
    assert sla.add_business_minutes(office, at(2026, 12, 1, 11, 30), 60) == at(2026, 12, 1, 13, 30)
    assert sla.business_minutes_between(office, at(2026, 12, 1, 8), at(2026, 12, 1, 20)) == 420
    assert sla.is_business_time(office, at(2026, 12, 1, 12, 30)) is False


def test_round_the_clock_desk_with_midnight_end() -> None:
    always = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert sla.add_business_minutes(desk(hours=always), at(2026, 12, 5, 23, 30), 60) == at(2026, 12, 6, 0, 30)


def test_time_zone_of_the_desk() -> None:
    # Berlin is UTC+1 in December: 09:00-18:00 local is 08:00-17:00 UTC.
    berlin = desk("Europe/Berlin")
    assert sla.next_business_time(berlin, at(2026, 12, 1, 7, 30)) == at(2026, 12, 1, 8)
    assert sla.add_business_minutes(berlin, at(2026, 12, 1, 7, 30), 480) == at(2026, 12, 1, 16)
    assert sla.add_business_minutes(berlin, at(2026, 12, 1, 8), 600) == at(2026, 12, 2, 9)
    # 17:30 UTC is 18:30 in Berlin: closed, although a UTC desk would be open.
    assert sla.is_business_time(berlin, at(2026, 12, 1, 17, 30)) is False
    assert sla.is_business_time(desk(), at(2026, 12, 1, 17, 30)) is True


def test_local_day_differs_from_the_utc_day() -> None:
    # Monday 22:00 UTC is already Tuesday 07:00 in Tokyo; the Tokyo desk opens at 00:00 UTC Tuesday.
    tokyo = desk("Asia/Tokyo")
    assert sla.next_business_time(tokyo, at(2026, 11, 30, 22)) == at(2026, 12, 1, 0)
    assert sla.add_business_minutes(tokyo, at(2026, 11, 30, 22), 30) == at(2026, 12, 1, 0, 30)


def test_daylight_saving_change_keeps_local_hours() -> None:
    # New York desk 09:00-17:00. Friday 6 March 2026 16:00 EST (21:00 UTC) + 2 h: one hour on Friday,
    # one on Monday 9 March, after clocks moved forward: 09:00 EDT is 13:00 UTC.
    new_york = desk("America/New_York", hours={**default_hours(), **{d: [["09:00", "17:00"]] for d in ("mon", "fri")}})
    assert sla.add_business_minutes(new_york, at(2026, 3, 6, 21), 120) == at(2026, 3, 9, 14)
    assert sla.add_business_minutes(new_york, at(2026, 3, 6, 21), 120) == at(2026, 3, 9, 10, tz="America/New_York")
    assert sla.business_minutes_between(new_york, at(2026, 3, 6, 21), at(2026, 3, 9, 14)) == 120


def test_no_hours_at_all() -> None:
    closed = desk(hours={day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    with pytest.raises(sla.NoBusinessHours):
        sla.add_business_minutes(closed, at(2026, 12, 1, 10), 60)
    assert sla.business_minutes_between(closed, at(2026, 12, 1, 10), at(2026, 12, 8, 10)) == 0


def test_between_is_zero_when_end_is_not_after_start() -> None:
    assert sla.business_minutes_between(desk(), at(2026, 12, 1, 12), at(2026, 12, 1, 11)) == 0


@pytest.mark.django_db
def test_holidays_count_no_business_time(tenant) -> None:
    office = make_offering(
        tenant.partner, holidays={dt.date(2026, 12, 24): "Christmas Eve", dt.date(2026, 12, 25): "Christmas"}
    )
    # Wednesday 23rd 17:00 + 2 h: one hour on Wednesday, then Thursday, Friday (holidays) and the
    # weekend are skipped: Monday 28th 10:00.
    assert sla.add_business_minutes(office, at(2026, 12, 23, 17), 120) == at(2026, 12, 28, 10)
    assert sla.business_minutes_between(office, at(2026, 12, 23, 17), at(2026, 12, 28, 10)) == 120
    assert sla.is_business_time(office, at(2026, 12, 24, 10)) is False
    assert sla.next_business_time(office, at(2026, 12, 24, 10)) == at(2026, 12, 28, 9)


@pytest.mark.django_db
def test_holiday_is_a_local_date(tenant) -> None:
    # A Sydney desk (UTC+11 in December) closed on Monday 7 December local time: Sunday 22:00 UTC is
    # already Monday morning there, so nothing counts until Tuesday 09:00 local (Monday 22:00 UTC).
    office = make_offering(tenant.partner, time_zone="Australia/Sydney", holidays={dt.date(2026, 12, 7): "Closed"})
    assert sla.next_business_time(office, at(2026, 12, 6, 22)) == at(2026, 12, 7, 22)
