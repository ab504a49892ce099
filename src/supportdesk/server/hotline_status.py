"""What the portal says about each line right now: open or closed, and until when; and
the services a line runs around the clock, which are open whatever its hours say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from supportdesk.domain.hotlines import Hotline, LocalizedText
from supportdesk.domain.service_hours import HolidayPredicate, availability_at

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class HotlineStatus:
    """``open_now`` is None for a line without published hours."""

    hotline: Hotline
    open_now: bool | None
    next_change: datetime | None


def status_of(
    hotline: Hotline, now: datetime, zone: ZoneInfo, is_holiday: HolidayPredicate
) -> HotlineStatus:
    if hotline.hours is None:
        return HotlineStatus(hotline, None, None)
    state = availability_at(hotline.hours, now, zone, is_holiday)
    next_change = state.next_change.astimezone(zone) if state.next_change else None
    return HotlineStatus(hotline, state.open_now, next_change)


@dataclass(frozen=True)
class RoundTheClockService:
    """A service reached on a line's numbers at any hour (the 24-hour blocking service):
    shown on a line of its own, so the line's "closed" at night never stands next to it."""

    name: LocalizedText
    hotline: Hotline


def round_the_clock_services(hotlines: tuple[Hotline, ...]) -> list[RoundTheClockService]:
    return [
        RoundTheClockService(name, hotline)
        for hotline in hotlines
        for name in hotline.round_the_clock
    ]


def round_the_clock_sentence(_: Gettext) -> str:
    """ "rund um die Uhr erreichbar": true at every hour, holidays included."""
    return _("reachable around the clock")


def _day_phrase(target: date, today: date, language: str, _: Gettext) -> str:
    if target == today:
        return _("today")
    if target == today + timedelta(days=1):
        return _("tomorrow")
    if target < today + timedelta(days=7):
        return format_date(target, "EEEE", locale=language)
    return _("on {date}").format(date=format_date(target, "EEEE, d. MMMM", locale=language))


def status_sentence(
    status: HotlineStatus, now: datetime, zone: ZoneInfo, language: str, _: Gettext
) -> str:
    """ "jetzt erreichbar" / "geschlossen — wieder erreichbar Montag ab 08:30 Uhr"."""
    if status.open_now is None:
        return _("no published service hours")
    change = status.next_change
    if status.open_now:
        if change is None:
            return _("open now — around the clock")
        if change.date() == now.astimezone(zone).date():
            return _("open now — until {time}").format(time=change.strftime("%H:%M"))
        return _("open now")
    if change is None:
        return _("closed")
    day = _day_phrase(change.date(), now.astimezone(zone).date(), language, _)
    return _("closed — open again {day} from {time}").format(day=day, time=change.strftime("%H:%M"))


def weekly_table(hotline: Hotline, language: str, _: Gettext) -> list[tuple[str, str]]:
    """Rows "Montag – Freitag" / "08:30 – 16:00 Uhr", consecutive equal days grouped."""
    if hotline.hours is None:
        return []
    monday = date(2024, 1, 1)
    names = [format_date(monday + timedelta(days=i), "EEEE", locale=language) for i in range(7)]
    rows: list[tuple[str, str]] = []
    start = 0
    weekly = hotline.hours.weekly
    for index in range(1, 8):
        if index < 7 and weekly[index] == weekly[start]:
            continue
        label = names[start] if index - 1 == start else f"{names[start]} – {names[index - 1]}"
        if weekly[start]:
            hours = ", ".join(str(r).replace("-", " – ") for r in weekly[start])
            rows.append((label, _("{hours}").format(hours=hours)))
        start = index
    rule = hotline.hours.holiday_rule.value
    holiday_text = {
        "closed": _("closed"),
        "sunday": _("as on Sundays"),
        "regular": _("as on weekdays"),
    }[rule]
    rows.append((_("Public holidays"), holiday_text))
    return rows
