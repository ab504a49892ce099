"""Weekly service hours of a hotline and whether it is open at a given instant.

Pure rules: the caller passes the time zone and a holiday predicate, so this module
knows no calendar package and no clock. All comparisons are between aware datetimes,
which makes daylight-saving nights and midnight boundaries come out right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from itertools import pairwise
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Far enough to cross the longest closure we know (Christmas plus a weekend),
# short enough to stay cheap on every page view.
LOOKAHEAD_DAYS = 21

HolidayPredicate = Callable[[date], bool]

_RANGE = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*$")


class ServiceHoursError(ValueError):
    """A service-hours specification that cannot be understood."""


@dataclass(frozen=True, order=True)
class TimeRange:
    """An opening interval within one day, in minutes since local midnight.

    ``end`` may be 1440 ("24:00") so that a line open through midnight can be
    written as two ranges that touch.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ServiceHoursError(f"invalid time range {self}")

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Parse ``"07:30-22:00"`` (a dot works too: ``"7.30-22.00"``)."""
        match = _RANGE.match(text)
        if not match:
            raise ServiceHoursError(f"{text!r} is not a time range like 07:30-22:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2 != 0):
            raise ServiceHoursError(f"{text!r} has an impossible time of day")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ServiceHoursError(f"{text!r} ends before it starts")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_ranges(text: str) -> tuple[TimeRange, ...]:
    """Parse a comma-separated list of ranges; ``"closed"`` or ``""`` means none."""
    if text.strip().lower() in ("", "closed", "geschlossen"):
        return ()
    ranges = tuple(sorted(TimeRange.parse(part) for part in text.split(",")))
    for before, after in pairwise(ranges):
        if after.start < before.end:
            raise ServiceHoursError(f"{text!r} has overlapping ranges")
    return ranges


class HolidayRule(Enum):
    """What a public holiday means for a line."""

    CLOSED = "closed"
    SUNDAY_HOURS = "sunday"
    REGULAR = "regular"


@dataclass(frozen=True)
class ServiceHours:
    """Opening ranges per weekday (0 = Monday) and the rule for public holidays."""

    weekly: tuple[tuple[TimeRange, ...], ...]
    holiday_rule: HolidayRule

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ServiceHoursError("service hours need exactly seven weekdays")

    @classmethod
    def from_mapping(cls, days: Mapping[str, str], holidays: str) -> ServiceHours:
        """Build from ``{"mon": "07:30-22:00", ...}``; missing days are closed."""
        unknown = set(days) - set(WEEKDAYS)
        if unknown:
            raise ServiceHoursError(f"unknown weekday keys: {', '.join(sorted(unknown))}")
        try:
            rule = HolidayRule(holidays)
        except ValueError:
            choices = ", ".join(r.value for r in HolidayRule)
            raise ServiceHoursError(f"holiday rule {holidays!r} is not one of {choices}") from None
        weekly = tuple(parse_ranges(days.get(day, "closed")) for day in WEEKDAYS)
        return cls(weekly, rule)

    def ranges_on(self, day: date, is_holiday: HolidayPredicate) -> tuple[TimeRange, ...]:
        """The opening ranges that apply on a calendar day."""
        if is_holiday(day):
            if self.holiday_rule is HolidayRule.CLOSED:
                return ()
            if self.holiday_rule is HolidayRule.SUNDAY_HOURS:
                return self.weekly[6]
        return self.weekly[day.weekday()]

    @property
    def always_open(self) -> bool:
        full = (TimeRange(0, MINUTES_PER_DAY),)
        return self.holiday_rule is not HolidayRule.CLOSED and all(
            day == full for day in self.weekly
        )


@dataclass(frozen=True)
class Availability:
    """Whether a line is open at an instant, and when that next changes.

    ``next_change`` is None only when the state does not change within the
    look-ahead window (a line open around the clock, or one with no hours).
    """

    open_now: bool
    next_change: datetime | None


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock minute on a local day.

    Python compares and subtracts datetimes that share a tzinfo by wall time, which
    is wrong across a DST change; everything here is therefore kept in UTC. A wall
    time in the spring-forward gap maps to the instant after the gap.
    """
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    local = datetime.combine(day, time(minute // 60, minute % 60), zone)
    return local.astimezone(UTC)


def open_intervals(
    hours: ServiceHours,
    first_day: date,
    days: int,
    zone: ZoneInfo,
    is_holiday: HolidayPredicate,
) -> list[tuple[datetime, datetime]]:
    """Opening intervals as UTC datetimes, with touching intervals merged."""
    merged: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for rng in hours.ranges_on(day, is_holiday):
            start, end = _instant(day, rng.start, zone), _instant(day, rng.end, zone)
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
    return merged


def availability_at(
    hours: ServiceHours,
    now: datetime,
    zone: ZoneInfo,
    is_holiday: HolidayPredicate,
) -> Availability:
    """Is the line open at ``now`` (aware), and when does that change next?

    ``next_change`` is expressed in ``zone``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_today = now.astimezone(zone).date()
    now = now.astimezone(UTC)
    # Start a day early so a range that began yesterday and runs past midnight counts.
    intervals = open_intervals(
        hours, local_today - timedelta(days=1), LOOKAHEAD_DAYS + 1, zone, is_holiday
    )
    horizon = _instant(local_today + timedelta(days=LOOKAHEAD_DAYS), 0, zone)
    for start, end in intervals:
        if start <= now < end:
            return Availability(True, end.astimezone(zone) if end < horizon else None)
        if now < start:
            return Availability(False, start.astimezone(zone))
    return Availability(False, None)
