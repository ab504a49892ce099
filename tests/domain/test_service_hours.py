"""Service hours as pure rules: parsing, holidays, DST nights and midnight."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.domain.service_hours import (
    HolidayRule,
    ServiceHours,
    ServiceHoursError,
    TimeRange,
    availability_at,
    parse_ranges,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def no_holidays(_: date) -> bool:
    return False


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


WEEKDAYS_ONLY = ServiceHours.from_mapping(
    {d: "08:30-16:00" for d in ("mon", "tue", "wed", "thu", "fri")}, "closed"
)
EVERY_DAY = ServiceHours.from_mapping(
    {d: "07:30-22:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, "sunday"
)


def test_time_ranges_parse_with_colon_or_dot() -> None:
    assert TimeRange.parse("7.30-22.00") == TimeRange(450, 1320)
    assert str(TimeRange.parse("08:30 - 16:00")) == "08:30-16:00"
    assert parse_ranges("08:00-12:00, 13:00-17:00") == (TimeRange(480, 720), TimeRange(780, 1020))
    assert parse_ranges("closed") == ()
    assert TimeRange.parse("00:00-24:00").end == 1440


@pytest.mark.parametrize(
    "text", ["", "8-16", "16:00-08:00", "25:00-26:00", "08:61-09:00", "10:00-24:30"]
)
def test_bad_ranges_are_refused(text: str) -> None:
    with pytest.raises(ServiceHoursError):
        TimeRange.parse(text)


def test_overlapping_ranges_are_refused() -> None:
    with pytest.raises(ServiceHoursError, match="overlapping"):
        parse_ranges("08:00-12:00, 11:00-14:00")


def test_unknown_weekday_and_rule_are_named() -> None:
    with pytest.raises(ServiceHoursError, match="monday"):
        ServiceHours.from_mapping({"monday": "08:00-12:00"}, "closed")
    with pytest.raises(ServiceHoursError, match="'weekend'"):
        ServiceHours.from_mapping({}, "weekend")


def test_open_during_hours_with_the_closing_time_next() -> None:
    state = availability_at(WEEKDAYS_ONLY, berlin(2026, 11, 30, 9, 0), BERLIN, no_holidays)
    assert state.open_now
    assert state.next_change == berlin(2026, 11, 30, 16, 0)


def test_closing_instant_belongs_to_closed() -> None:
    state = availability_at(WEEKDAYS_ONLY, berlin(2026, 11, 30, 16, 0), BERLIN, no_holidays)
    assert not state.open_now
    assert state.next_change == berlin(2026, 12, 1, 8, 30)


def test_friday_evening_reopens_on_monday() -> None:
    state = availability_at(WEEKDAYS_ONLY, berlin(2026, 12, 4, 18, 0), BERLIN, no_holidays)
    assert not state.open_now
    assert state.next_change == berlin(2026, 12, 7, 8, 30)


def test_holiday_closes_a_weekday_line() -> None:
    holidays = {date(2026, 1, 6)}
    state = availability_at(WEEKDAYS_ONLY, berlin(2026, 1, 6, 10, 0), BERLIN, holidays.__contains__)
    assert not state.open_now
    assert state.next_change == berlin(2026, 1, 7, 8, 30)


def test_holiday_with_sunday_hours() -> None:
    hours = ServiceHours.from_mapping({"mon": "08:00-20:00", "sun": "10:00-12:00"}, "sunday")
    monday_holiday = {date(2026, 4, 6)}
    state = availability_at(hours, berlin(2026, 4, 6, 9, 0), BERLIN, monday_holiday.__contains__)
    assert not state.open_now
    assert state.next_change == berlin(2026, 4, 6, 10, 0)
    assert hours.holiday_rule is HolidayRule.SUNDAY_HOURS


def test_next_change_across_spring_forward_keeps_wall_time() -> None:
    # 29 March 2026: clocks jump from 02:00 to 03:00 in Berlin.
    now = berlin(2026, 3, 29, 1, 30)
    state = availability_at(EVERY_DAY, now, BERLIN, no_holidays)
    assert not state.open_now
    assert state.next_change == berlin(2026, 3, 29, 7, 30)
    assert state.next_change.utcoffset().total_seconds() == 2 * 3600  # type: ignore[union-attr]
    # Six hours of wall time, but only five real hours went by.
    elapsed = state.next_change.astimezone(UTC) - now.astimezone(UTC)  # type: ignore[union-attr]
    assert elapsed.total_seconds() == 5 * 3600


def test_fall_back_night_ambiguous_hour() -> None:
    # 25 October 2026: 02:00-03:00 happens twice; both are outside the hours.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    for now in (first, second):
        state = availability_at(EVERY_DAY, now, BERLIN, no_holidays)
        assert not state.open_now
        assert state.next_change == berlin(2026, 10, 25, 7, 30)


def test_range_through_midnight_is_one_opening() -> None:
    hours = ServiceHours.from_mapping({"fri": "20:00-24:00", "sat": "00:00-02:00"}, "regular")
    state = availability_at(hours, berlin(2026, 12, 4, 23, 59), BERLIN, no_holidays)
    assert state.open_now
    assert state.next_change == berlin(2026, 12, 5, 2, 0)
    after_midnight = availability_at(hours, berlin(2026, 12, 5, 0, 30), BERLIN, no_holidays)
    assert after_midnight.open_now
    assert after_midnight.next_change == berlin(2026, 12, 5, 2, 0)


def test_around_the_clock_has_no_next_change() -> None:
    hours = ServiceHours.from_mapping(
        {d: "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, "regular"
    )
    assert hours.always_open
    state = availability_at(hours, berlin(2026, 12, 24, 3, 0), BERLIN, no_holidays)
    assert state.open_now and state.next_change is None


def test_a_line_with_no_hours_is_never_open() -> None:
    hours = ServiceHours.from_mapping({}, "closed")
    state = availability_at(hours, berlin(2026, 12, 24, 3, 0), BERLIN, no_holidays)
    assert not state.open_now and state.next_change is None


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        availability_at(EVERY_DAY, datetime(2026, 1, 1), BERLIN, no_holidays)


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31)))
def test_next_change_flips_the_state(moment: datetime) -> None:
    """Whatever the instant, at next_change the line is in the other state."""
    now = moment.replace(tzinfo=UTC)
    state = availability_at(WEEKDAYS_ONLY, now, BERLIN, no_holidays)
    assert state.next_change is not None and state.next_change > now
    after = availability_at(WEEKDAYS_ONLY, state.next_change, BERLIN, no_holidays)
    assert after.open_now is not state.open_now
