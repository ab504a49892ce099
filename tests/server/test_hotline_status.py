"""The bank's real lines under Bavarian holidays, in Berlin time, in the portal's words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from supportdesk.config import load_settings
from supportdesk.i18n import translations
from supportdesk.server.holiday_calendar import HolidayCalendar
from supportdesk.server.hotline_status import status_of, status_sentence, weekly_table

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    config = tmp_path_factory.mktemp("cfg") / "supportdesk.toml"
    config.write_text("")
    settings = load_settings(config, {})
    return settings.directory(), HolidayCalendar(settings.portal)


def sentence(bank, line_id: str, when: datetime, language: str = "de") -> str:  # type: ignore[no-untyped-def]
    directory, calendar = bank
    status = status_of(directory.get(line_id), when, BERLIN, calendar)
    return status_sentence(status, when, BERLIN, language, translations(language).gettext)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # Epiphany (Heilige Drei Könige), a holiday in Bavaria, on a Tuesday.
        (at(2026, 1, 6, 10, 0), "geschlossen — wieder erreichbar morgen ab 08:30 Uhr"),
        # Corpus Christi (Fronleichnam), Thursday.
        (at(2026, 6, 4, 10, 0), "geschlossen — wieder erreichbar morgen ab 08:30 Uhr"),
        # Assumption Day (Mariä Himmelfahrt), Friday in 2025: reopens Monday.
        (at(2025, 8, 15, 10, 0), "geschlossen — wieder erreichbar Montag ab 08:30 Uhr"),
        # Christmas Eve (Thursday), then two holidays and a Sunday.
        (at(2026, 12, 24, 10, 0), "geschlossen — wieder erreichbar Montag ab 08:30 Uhr"),
        # New Year's Eve (Thursday), New Year's Day, then the weekend.
        (at(2026, 12, 31, 9, 0), "geschlossen — wieder erreichbar Montag ab 08:30 Uhr"),
        # Reformation Day is a holiday elsewhere in Germany, not in Bavaria.
        (at(2025, 10, 31, 10, 0), "jetzt erreichbar — bis 16:00 Uhr"),
        # Repentance Day (Buß- und Bettag) closes Bavarian schools, not the bank.
        (at(2026, 11, 18, 10, 0), "jetzt erreichbar — bis 16:00 Uhr"),
        # A Sunday: reopens Monday morning.
        (at(2026, 11, 29, 7, 29), "geschlossen — wieder erreichbar morgen ab 08:30 Uhr"),
    ],
)
def test_profi_cash_line(bank, when: datetime, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert sentence(bank, "profi-cash-ebics", when) == expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # Sunday night, a minute before opening, and the minute it opens.
        (at(2026, 11, 29, 7, 29), "geschlossen — wieder erreichbar heute ab 07:30 Uhr"),
        (at(2026, 11, 29, 7, 30), "jetzt erreichbar — bis 22:00 Uhr"),
        # Holidays follow the Sunday hours: open on Christmas Day and on 6 January.
        (at(2026, 12, 25, 12, 0), "jetzt erreichbar — bis 22:00 Uhr"),
        (at(2026, 1, 6, 21, 59), "jetzt erreichbar — bis 22:00 Uhr"),
        # Around midnight.
        (at(2026, 11, 30, 23, 59), "geschlossen — wieder erreichbar morgen ab 07:30 Uhr"),
        (at(2026, 12, 1, 0, 0), "geschlossen — wieder erreichbar heute ab 07:30 Uhr"),
        # The spring-forward night (29 March 2026, 02:00 → 03:00).
        (at(2026, 3, 29, 1, 59), "geschlossen — wieder erreichbar heute ab 07:30 Uhr"),
        (at(2026, 3, 28, 22, 0), "geschlossen — wieder erreichbar morgen ab 07:30 Uhr"),
    ],
)
def test_online_banking_line(bank, when: datetime, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert sentence(bank, "online-banking", when) == expected


def test_english_wording(bank) -> None:  # type: ignore[no-untyped-def]
    assert (
        sentence(bank, "profi-cash-ebics", at(2026, 12, 24, 10, 0), "en")
        == "closed — open again Monday from 08:30"
    )
    assert sentence(bank, "online-banking", at(2026, 12, 24, 10, 0), "en") == (
        "open now — until 22:00"
    )


def test_opening_after_dst_change_carries_summer_offset(bank) -> None:  # type: ignore[no-untyped-def]
    directory, calendar = bank
    status = status_of(directory.get("online-banking"), at(2026, 3, 29, 1, 0), BERLIN, calendar)
    assert status.next_change is not None
    assert status.next_change.isoformat() == "2026-03-29T07:30:00+02:00"


def test_weekly_table_groups_days(bank) -> None:  # type: ignore[no-untyped-def]
    directory, _calendar = bank
    _ = translations("de").gettext
    rows = weekly_table(directory.get("profi-cash-ebics"), "de", _)
    assert rows == [("Montag – Freitag", "08:30 – 16:00 Uhr"), ("Feiertage", "geschlossen")]
    rows = weekly_table(directory.get("online-banking"), "de", _)
    assert rows == [("Montag – Sonntag", "07:30 – 22:00 Uhr"), ("Feiertage", "wie sonntags")]


def test_line_without_hours_has_no_status(bank) -> None:  # type: ignore[no-untyped-def]
    assert sentence(bank, "pos-card-process", at(2026, 12, 1, 10, 0)) == (
        "keine festen Servicezeiten veröffentlicht"
    )
