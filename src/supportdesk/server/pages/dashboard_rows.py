"""What the console's dashboard shows, as plain rows: the agent's sessions, every open
session (supervisors), the service-request queue, each row with the clock it runs.

The page (``dashboard.py``) and its live updates (``dashboard_socket.py``) render the
same rows with the same template, so a reload and an update never disagree. Rows are
frozen and compare by value, and hold no "now": an update is sent only when a row
really changed, and the clocks are counted in the browser from the moments given here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from supportdesk.domain.agent_accounts import Permission, may
from supportdesk.domain.session_events import LIVE_STATES, TERMINAL_STATES, SessionState
from supportdesk.server.state import Desk
from supportdesk.store.agents import Agent, AgentAccounts
from supportdesk.store.service_requests import QueuedRequest, RequestQueue
from supportdesk.store.support_sessions import SessionSummary, SupportSessionRecords

RECENTLY_ENDED = 10
"""How many of the agent's ended sessions stay on the dashboard, newest first."""

WAITING_STATES = (SessionState.ISSUED, SessionState.REDEEMED, SessionState.AWAITING_CONSENT)


class Clock(Enum):
    """What a row's time column counts."""

    KEY_VALID = "key"  # down to the support key's expiry: the key still waits
    CUSTOMER_WAITING = "waiting"  # up since the customer gave name and key
    RUNNING = "running"  # up since the customer consented and the session began
    TOOK = "took"  # how long an ended session ran: stands still
    REQUEST_WAITING = "request"  # up since a service request arrived
    NONE = "none"


@dataclass(frozen=True)
class Timer:
    clock: Clock
    at: datetime | None = None  # the moment counted to (KEY_VALID) or from
    until: datetime | None = None  # TOOK: when it ended

    def seconds(self, now: datetime) -> int:
        """The figure the column shows at ``now``, in whole seconds (never negative)."""
        if self.at is None:
            return 0
        left = self.at - now if self.clock is Clock.KEY_VALID else (self.until or now) - self.at
        return max(0, int(left.total_seconds()))


@dataclass(frozen=True)
class SessionRow:
    number: str
    state: str  # SessionState's code; the template puts it in words
    group: str  # "live", "waiting" or "ended": the row's colour band
    end_reason: str | None
    customer: str | None  # only while the session is not over
    verification_code: str
    agent: str  # the agent's display name
    issued_at: datetime
    timer: Timer


@dataclass(frozen=True)
class RequestRow:
    reference: str
    topic: str
    status: str
    assigned: str | None
    created_at: datetime
    timer: Timer


@dataclass(frozen=True)
class DashboardRows:
    """None for a table the role does not see."""

    mine: tuple[SessionRow, ...] | None
    everyone: tuple[SessionRow, ...] | None
    queue: tuple[RequestRow, ...] | None


def timer_of(summary: SessionSummary) -> Timer:
    state = summary.state
    if state is SessionState.ISSUED:
        return Timer(Clock.KEY_VALID, summary.expires_at)
    if state in (SessionState.REDEEMED, SessionState.AWAITING_CONSENT):
        return Timer(Clock.CUSTOMER_WAITING, summary.redeemed_at or summary.issued_at)
    if state in LIVE_STATES:
        return Timer(Clock.RUNNING, summary.started_at or summary.issued_at)
    if summary.started_at is not None and summary.ended_at is not None:
        return Timer(Clock.TOOK, summary.started_at, summary.ended_at)
    return Timer(Clock.NONE)


def group_of(state: SessionState) -> str:
    if state in LIVE_STATES:
        return "live"
    return "ended" if state in TERMINAL_STATES else "waiting"


def my_sessions(summaries: list[SessionSummary]) -> list[SessionSummary]:
    """Live first, then waiting, then the most recently ended; newest first in each."""

    def newest_first(rows: list[SessionSummary]) -> list[SessionSummary]:
        return sorted(rows, key=lambda s: s.issued_at, reverse=True)

    live = [s for s in summaries if s.state in LIVE_STATES]
    waiting = [s for s in summaries if s.state in WAITING_STATES]
    ended = [s for s in summaries if s.state in TERMINAL_STATES]
    ended = sorted(ended, key=lambda s: s.ended_at or s.issued_at, reverse=True)
    return newest_first(live) + newest_first(waiting) + ended[:RECENTLY_ENDED]


def format_clock(seconds: int) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` below a day (the template words whole days);
    console-dashboard.js formats the same way."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


async def dashboard_rows(desk: Desk, agent: Agent, language: str) -> DashboardRows:
    """The rows the agent's role sees, as the store has them now."""
    role = agent.role
    async with desk.sessions() as db:
        records = SupportSessionRecords(db)
        mine = (
            my_sessions(await records.for_agent(agent.id))
            if may(role, Permission.RUN_SESSIONS)
            else None
        )
        everyone = (
            await records.not_finished() if may(role, Permission.SEE_ALL_LIVE_SESSIONS) else None
        )
        queue = (
            await RequestQueue(db).open_requests()
            if may(role, Permission.HANDLE_REQUESTS)
            else None
        )
        agents = {a.id: a for a in await AgentAccounts(db).all()}

    names: dict[str, str | None] = {}
    for summary in (*(mine or ()), *(everyone or ())):
        number = summary.consultation_number
        if summary.state not in TERMINAL_STATES and number not in names:
            names[number] = await desk.remote.customer_name(number)
    topics = {line.id: line.name.in_language(language) for line in desk.directory.hotlines}

    def session_row(summary: SessionSummary) -> SessionRow:
        return SessionRow(
            summary.consultation_number,
            summary.state.value,
            group_of(summary.state),
            summary.end_reason if summary.state in TERMINAL_STATES else None,
            names.get(summary.consultation_number),
            summary.verification_code,
            _name(agents, summary.agent_id) or str(summary.agent_id),
            summary.issued_at,
            timer_of(summary),
        )

    def request_row(found: QueuedRequest) -> RequestRow:
        return RequestRow(
            found.reference,
            topics.get(found.topic, found.topic),
            found.status.value,
            _name(agents, found.assigned_agent_id),
            found.created_at,
            Timer(Clock.REQUEST_WAITING, found.created_at),
        )

    return DashboardRows(
        None if mine is None else tuple(session_row(s) for s in mine),
        None if everyone is None else tuple(session_row(s) for s in everyone),
        None if queue is None else tuple(request_row(r) for r in queue),
    )


def _name(agents: dict[int, Agent], agent_id: int | None) -> str | None:
    found = agents.get(agent_id) if agent_id is not None else None
    return found.display_name if found else None


def whole_days(seconds: int) -> tuple[int, int] | None:
    """(days, hours) for a figure of a day or more, which the template words; else None."""
    if seconds < timedelta(days=1).total_seconds():
        return None
    days, rest = divmod(seconds, 86400)
    return days, rest // 3600
