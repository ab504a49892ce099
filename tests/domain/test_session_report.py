"""The reports' numbers from sessions alone (no database): days and hours in the bank's
time zone, durations, outcomes, capabilities, survey scores, per agent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.domain.session_report import (
    BadPeriod,
    Period,
    ReportSession,
    SurveyFacts,
    build_report,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), BERLIN)


def session(
    issued: datetime, agent: int = 1, state: str = "ended", minutes: float | None = 12,
    reason: str | None = "customer", redeemed: bool = True, used: tuple[str, ...] = ("view",),
    survey: SurveyFacts | None = None,
) -> ReportSession:  # fmt: skip
    started = issued + timedelta(minutes=2) if minutes is not None else None
    return ReportSession(
        consultation_number=f"N{issued.timestamp()}",
        agent_id=agent,
        state=state,
        issued_at=issued,
        redeemed_at=issued + timedelta(minutes=1) if redeemed else None,
        started_at=started,
        ended_at=started + timedelta(minutes=minutes) if started and minutes is not None else None,
        end_reason=reason,
        capabilities_used=frozenset(used),
        survey=survey,
    )


def test_days_and_hours_are_local() -> None:
    # 23:30 UTC on 31 October is 00:30 on 1 November in Berlin (CET): inside.
    early = session(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    late = session(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 1 December in Berlin: out
    report = build_report([early, late], NOVEMBER)
    assert report.per_day[0] == (date(2026, 11, 1), 1)
    assert report.sessions == 1 and report.per_hour[0] == 1
    assert len(report.per_day) == 30


def test_outcomes_durations_capabilities_and_scores() -> None:
    day = datetime(2026, 11, 10, 9, 0, tzinfo=BERLIN)
    at = day + timedelta(hours=1)
    sessions = [
        session(day, minutes=3, used=("view", "control"),
                survey=SurveyFacts(5, "yes", "Prima", at)),
        session(day, minutes=75, reason="connection_lost", agent=2,
                survey=SurveyFacts(2, "no", None, at)),
        session(day, state="declined", minutes=None, reason="declined"),
        session(day, state="expired", minutes=None, reason=None, redeemed=False, used=()),
        session(day, state="expired", minutes=None, reason=None, used=()),
        session(day, state="active", minutes=None, reason=None),
    ]  # fmt: skip
    report = build_report(sessions, NOVEMBER)
    assert dict(report.durations) == {"0-5": 1, "5-10": 0, "10-20": 0, "20-30": 0,
                                      "30-60": 0, "60+": 1}  # fmt: skip
    outcomes = dict(report.outcomes)
    assert outcomes["ended_customer"] == 1 and outcomes["ended_connection_lost"] == 1
    assert outcomes["declined"] == 1 and outcomes["key_expired"] == 1
    assert outcomes["not_started"] == 1 and outcomes["open"] == 1
    assert dict(report.capabilities)["control"] == 1
    assert dict(report.stars) == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert report.average_stars == 3.5 and report.answers == 2
    assert [c.text for c in report.comments] == ["Prima"]
    lines = {line.agent_id: line for line in report.agents}
    assert lines[1].sessions == 5 and lines[1].ran == 1 and lines[1].median_minutes == 3.0
    assert lines[2].average_stars == 2.0
    only_two = build_report(sessions, NOVEMBER, agent_id=2)
    assert only_two.sessions == 1 and len(only_two.agents) == 2  # the table lists everyone


def test_periods_have_limits() -> None:
    with pytest.raises(BadPeriod):
        Period(date(2026, 11, 2), date(2026, 11, 1), BERLIN)
    with pytest.raises(BadPeriod):
        Period(date(2025, 1, 1), date(2026, 11, 1), BERLIN)
