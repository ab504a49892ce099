"""The dashboard's rows without a server: which clock each state runs, the order of the
agent's sessions, and the clock's figure as the page and the script both write it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from supportdesk.domain.session_events import SessionState
from supportdesk.server.pages.dashboard_rows import (
    RECENTLY_ENDED,
    Clock,
    format_clock,
    my_sessions,
    timer_of,
    whole_days,
)
from supportdesk.store.support_sessions import SessionSummary

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def summary(number: str, state: SessionState, minute: int = 0, **times: datetime) -> SessionSummary:
    issued = T0 + timedelta(minutes=minute)
    return SessionSummary(
        number, 1, "ABC-DEF", state, frozenset(), issued, issued + timedelta(minutes=10),
        times.get("started_at"), times.get("ended_at"), None, times.get("redeemed_at"),
    )  # fmt: skip


def test_each_state_runs_its_clock() -> None:
    issued = timer_of(summary("a", SessionState.ISSUED))
    assert issued.clock is Clock.KEY_VALID and issued.seconds(T0 + timedelta(seconds=19)) == 581
    assert issued.seconds(T0 + timedelta(minutes=11)) == 0  # never negative
    came = T0 + timedelta(minutes=2)
    waiting = timer_of(summary("b", SessionState.AWAITING_CONSENT, redeemed_at=came))
    assert (
        waiting.clock is Clock.CUSTOMER_WAITING
        and waiting.seconds(came + timedelta(seconds=42)) == 42
    )
    began = T0 + timedelta(minutes=3)
    running = timer_of(summary("c", SessionState.PAUSED, started_at=began))
    assert running.clock is Clock.RUNNING and running.seconds(began + timedelta(hours=1)) == 3600
    ended = summary(
        "d", SessionState.ENDED, started_at=began, ended_at=began + timedelta(minutes=12)
    )
    took = timer_of(ended)
    assert took.clock is Clock.TOOK and took.seconds(T0 + timedelta(days=3)) == 720  # stands still
    assert timer_of(summary("e", SessionState.EXPIRED)).clock is Clock.NONE


def test_live_then_waiting_then_recently_ended() -> None:
    rows = [
        summary("old-live", SessionState.ACTIVE, 1),
        summary("waiting", SessionState.ISSUED, 5),
        summary("new-live", SessionState.ACTIVE, 3),
        *(
            summary(f"ended-{i}", SessionState.ENDED, i, ended_at=T0 + timedelta(hours=i))
            for i in range(RECENTLY_ENDED + 3)
        ),
    ]
    order = [s.consultation_number for s in my_sessions(rows)]
    assert order[:3] == ["new-live", "old-live", "waiting"]
    assert order[3] == f"ended-{RECENTLY_ENDED + 2}" and len(order) == 3 + RECENTLY_ENDED


def test_the_clock_reads_as_on_a_watch() -> None:
    assert [format_clock(s) for s in (0, 9, 61, 599, 3600, 3 * 3600 + 62)] == [
        "0:00", "0:09", "1:01", "9:59", "1:00:00", "3:01:02",
    ]  # fmt: skip
    assert whole_days(86399) is None and whole_days(2 * 86400 + 3 * 3600 + 5) == (2, 3)
