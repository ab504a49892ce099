"""The supervisors' numbers: sessions of a period counted by day, hour, duration,
outcome, capability and survey answer, for the team and per agent. Pure: fed the
sessions (as the store reads them), no database, no clock.

A session belongs to the local day and hour (the bank's time zone) it was issued in;
its duration runs from the start of the shared screen to the end. Its outcome is how it
ended (``ended_<reason>``), ``declined``, ``key_expired`` (the key was never redeemed),
``not_started`` (redeemed, but the customer never consented in time) or ``open``
(still issued or running).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from statistics import median

MAX_PERIOD_DAYS = 366
"""The longest period a report covers (the store reads every session of it)."""

DURATION_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5 * 60),
    ("5-10", 5 * 60, 10 * 60),
    ("10-20", 10 * 60, 20 * 60),
    ("20-30", 20 * 60, 30 * 60),
    ("30-60", 30 * 60, 60 * 60),
    ("60+", 60 * 60, None),
)
"""Label, lower bound (inclusive) and upper bound (exclusive) in seconds."""

END_REASONS = ("customer", "agent", "timeout", "connection_lost", "recording_limit", "error")
OUTCOMES = (
    *(f"ended_{reason}" for reason in END_REASONS),
    "declined",
    "key_expired",
    "not_started",
    "open",
)
CAPABILITIES = ("view", "control", "file_transfer", "diagnostics")
SOLVED = ("yes", "partly", "no")


class BadPeriod(ValueError):
    """The period is empty, reversed or longer than :data:`MAX_PERIOD_DAYS`."""


@dataclass(frozen=True)
class Period:
    """Whole local days, ``first`` to ``last`` inclusive, in the bank's time zone."""

    first: date
    last: date
    zone: tzinfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise BadPeriod("the period ends before it begins")
        if (self.last - self.first).days + 1 > MAX_PERIOD_DAYS:
            raise BadPeriod(f"a report covers at most {MAX_PERIOD_DAYS} days")

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def start(self) -> datetime:
        """The first instant of the period (aware)."""
        return datetime.combine(self.first, datetime.min.time(), self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (aware)."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), self.zone)


@dataclass(frozen=True)
class SurveyFacts:
    """A session's exit-survey answer; ``comment`` None when left out or erased."""

    stars: int | None
    solved: str | None
    comment: str | None
    answered_at: datetime


@dataclass(frozen=True)
class ReportSession:
    """One session as the report needs it (aware times)."""

    consultation_number: str
    agent_id: int
    state: str
    issued_at: datetime
    redeemed_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    capabilities_used: frozenset[str]
    survey: SurveyFacts | None = None

    @property
    def outcome(self) -> str:
        if self.state == "ended":
            reason = self.end_reason if self.end_reason in END_REASONS else "error"
            return f"ended_{reason}"
        if self.state == "declined":
            return "declined"
        if self.state == "expired":
            return "not_started" if self.redeemed_at is not None else "key_expired"
        return "open"

    @property
    def duration_seconds(self) -> float | None:
        """From the start of sharing to the end; None for a session that never ran or
        runs still."""
        if self.started_at is None or self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.started_at).total_seconds())


@dataclass(frozen=True)
class Comment:
    consultation_number: str
    agent_id: int
    answered_at: datetime
    stars: int | None
    solved: str | None
    text: str


@dataclass(frozen=True)
class AgentLine:
    """One agent's row of the per-agent table."""

    agent_id: int
    sessions: int
    ran: int
    median_minutes: float | None
    answers: int
    average_stars: float | None
    solved_yes: int


@dataclass(frozen=True)
class SessionReport:
    """Every number of the reports page, and of its CSV export."""

    period: Period
    per_day: list[tuple[date, int]]
    per_hour: list[int]  # 24 counts, local hour of issue
    durations: list[tuple[str, int]]
    outcomes: list[tuple[str, int]]
    capabilities: list[tuple[str, int]]  # sessions that used each
    stars: list[tuple[int, int]]  # 1..5 -> answers
    solved: list[tuple[str, int]]
    answers: int
    average_stars: float | None
    comments: list[Comment] = field(default_factory=list)
    agents: list[AgentLine] = field(default_factory=list)

    @property
    def sessions(self) -> int:
        return sum(count for _day, count in self.per_day)

    @property
    def ran(self) -> int:
        return sum(count for _label, count in self.durations)


def _average(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _bucket(seconds: float) -> str:
    for label, low, high in DURATION_BUCKETS:
        if seconds >= low and (high is None or seconds < high):
            return label
    return DURATION_BUCKETS[-1][0]


def _agent_line(agent_id: int, sessions: Sequence[ReportSession]) -> AgentLine:
    durations = [d for s in sessions if (d := s.duration_seconds) is not None]
    answers = [s.survey for s in sessions if s.survey is not None]
    stars = [a.stars for a in answers if a.stars is not None]
    return AgentLine(
        agent_id=agent_id,
        sessions=len(sessions),
        ran=len(durations),
        median_minutes=round(median(durations) / 60, 1) if durations else None,
        answers=len(answers),
        average_stars=_average(stars),
        solved_yes=sum(1 for a in answers if a.solved == "yes"),
    )


def build_report(
    sessions: Iterable[ReportSession], period: Period, agent_id: int | None = None
) -> SessionReport:
    """The report of the sessions issued within ``period`` (others are ignored), of
    ``agent_id`` alone when given; the per-agent table always lists every agent."""
    inside = [s for s in sessions if period.start <= s.issued_at < period.end]
    chosen = [s for s in inside if agent_id is None or s.agent_id == agent_id]
    local = [s.issued_at.astimezone(period.zone) for s in chosen]
    by_day = Counter(moment.date() for moment in local)
    by_hour = Counter(moment.hour for moment in local)
    buckets = Counter(_bucket(d) for s in chosen if (d := s.duration_seconds) is not None)
    outcomes = Counter(s.outcome for s in chosen)
    used = Counter(c for s in chosen for c in s.capabilities_used)
    answers = [s.survey for s in chosen if s.survey is not None]
    stars = [a.stars for a in answers if a.stars is not None]
    comments = [
        Comment(s.consultation_number, s.agent_id, s.survey.answered_at, s.survey.stars,
                s.survey.solved, s.survey.comment)
        for s in chosen
        if s.survey is not None and s.survey.comment
    ]  # fmt: skip
    comments.sort(key=lambda c: c.answered_at, reverse=True)
    by_agent: dict[int, list[ReportSession]] = {}
    for s in inside:
        by_agent.setdefault(s.agent_id, []).append(s)
    return SessionReport(
        period=period,
        per_day=[(day, by_day[day]) for day in period.days],
        per_hour=[by_hour[hour] for hour in range(24)],
        durations=[(label, buckets[label]) for label, _low, _high in DURATION_BUCKETS],
        outcomes=[(code, outcomes[code]) for code in OUTCOMES],
        capabilities=[(code, used[code]) for code in CAPABILITIES],
        stars=[(n, sum(1 for s in stars if s == n)) for n in range(1, 6)],
        solved=[(code, sum(1 for a in answers if a.solved == code)) for code in SOLVED],
        answers=len(answers),
        average_stars=_average(stars),
        comments=comments,
        agents=[_agent_line(aid, rows) for aid, rows in sorted(by_agent.items())],
    )
