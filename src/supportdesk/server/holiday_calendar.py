"""Public holidays for the service hours, from the ``holidays`` package."""

from __future__ import annotations

from datetime import date

import holidays

from supportdesk.config import PortalConfig


class HolidayCalendar:
    """Answers "is this a holiday?" for the configured state, plus the bank's extra days."""

    def __init__(self, portal: PortalConfig) -> None:
        self._calendar = holidays.country_holidays(
            "DE",
            subdiv=portal.holiday_subdivision,
            categories=portal.holiday_categories,
            language="de",
        )
        self._extra = {tuple(int(p) for p in md.split("-")) for md in portal.extra_holidays}

    def __call__(self, day: date) -> bool:
        return (day.month, day.day) in self._extra or day in self._calendar

    def name(self, day: date) -> str | None:
        return self._calendar.get(day)
