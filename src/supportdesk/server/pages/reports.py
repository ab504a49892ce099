"""``/console/reports`` ("Berichte"): the supervisors' numbers of a chosen period, for the
team or one agent, as server-drawn SVG charts with a table each, and the same numbers
as CSV (``/console/reports.csv``).

The numbers come from ``domain/session_report.py`` fed by one store query. Customers'
survey comments are customer content: shown (escaped, as everything) and exported only
to whom may read them (supervisors); auditors and admins see the counts alone. An
export is written to the audit trail first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from supportdesk.domain.agent_accounts import Permission
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.session_report import (
    MAX_PERIOD_DAYS,
    BadPeriod,
    Period,
    SessionReport,
    build_report,
)
from supportdesk.i18n import N_
from supportdesk.server.agents.auth import SignedIn, require
from supportdesk.server.pages.report_charts import bar_chart, row_chart
from supportdesk.server.state import desk_of
from supportdesk.store.agents import AgentAccounts
from supportdesk.store.exit_surveys import report_sessions

router = APIRouter(prefix="/console", include_in_schema=False)

DEFAULT_DAYS = 30
ROW_CHARTS = frozenset({"outcomes", "capabilities", "durations", "solved"})
"""Charts of few bars with long labels: drawn horizontally, the labels readable."""

OUTCOME_NAMES = {
    "ended_customer": N_("Ended by the customer"),
    "ended_agent": N_("Ended by the agent"),
    "ended_timeout": N_("Time limit reached"),
    "ended_connection_lost": N_("Connection lost"),
    "ended_recording_limit": N_("Recording limit reached"),
    "ended_error": N_("Ended by an error"),
    "declined": N_("Declined by the customer"),
    "key_expired": N_("Support key expired unused"),
    "not_started": N_("Redeemed, never started"),
    "open": N_("Not finished yet"),
}
CAPABILITY_NAMES = {
    "view": N_("View"),
    "control": N_("Control"),
    "file_transfer": N_("File transfer"),
    "diagnostics": N_("Diagnostics"),
}
SOLVED_NAMES = {"yes": N_("Yes"), "partly": N_("Partly"), "no": N_("No")}
DURATION_NAMES = {
    "0-5": N_("under 5 min"),
    "5-10": N_("5–10 min"),
    "10-20": N_("10–20 min"),
    "20-30": N_("20–30 min"),
    "30-60": N_("30–60 min"),
    "60+": N_("60 min and more"),
}


@dataclass(frozen=True)
class ReportQuery:
    """The period and agent a report is asked for, read leniently from the query."""

    period: Period
    agent_id: int | None
    problem: str | None  # what could not be read (the default was taken)

    @classmethod
    def read(cls, params: Mapping[str, str], today: date, zone: Any) -> ReportQuery:
        problem = None
        first = _date(params.get("from", ""))
        last = _date(params.get("to", ""))
        last = last or today
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        try:
            period = Period(first, last, zone)
        except BadPeriod:
            problem = N_(
                "The period could not be used (at most %(days)s days, from before to); the last "
                "30 days are shown."
            )
            period = Period(today - timedelta(days=DEFAULT_DAYS - 1), today, zone)
        agent = params.get("agent", "")
        agent_id = int(agent) if agent.isascii() and agent.isdigit() and len(agent) < 10 else None
        return cls(period, agent_id, problem)

    def link(self) -> str:
        """The query string of this report (for the CSV link)."""
        agent = f"&agent={self.agent_id}" if self.agent_id is not None else ""
        return f"from={self.period.first.isoformat()}&to={self.period.last.isoformat()}{agent}"


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if 8 <= len(text) <= 10 else None
    except ValueError:
        return None


async def _report(request: Request) -> tuple[SignedIn, ReportQuery, SessionReport, dict[int, str]]:
    desk = desk_of(request)
    signed_in = await require(request, Permission.READ_REPORTS)
    zone = desk.settings.zone
    today = desk.clock().astimezone(zone).date()
    query = ReportQuery.read(request.query_params, today, zone)
    async with desk.sessions() as db:
        sessions = await report_sessions(db, query.period)
        agents = {a.id: a.display_name for a in await AgentAccounts(db).all()}
    report = build_report(sessions, query.period, query.agent_id)
    if not signed_in.may(Permission.READ_SURVEY_COMMENTS):
        report = _without_comments(report)
    return signed_in, query, report, agents


def _without_comments(report: SessionReport) -> SessionReport:
    return replace(report, comments=[])


@router.get("/reports")
async def reports_page(request: Request) -> Response:
    """The report of the chosen period (default: the last 30 days) and agent (default:
    the team)."""
    desk = desk_of(request)
    signed_in, query, report, agents = await _report(request)
    _ = desk.pages.gettext_for(request)
    zone = desk.settings.zone
    tables = _tables(report, _)
    about = _("Bar chart; the table below it has the same numbers.")
    charts = {
        key: row_chart(f"chart-{key}", title, about, rows)
        if key in ROW_CHARTS
        else bar_chart(f"chart-{key}", title, about, rows, label_every=every)
        for key, (title, rows, every) in tables.items()
    }
    return desk.pages.render(
        request,
        "console/reports.html",
        signed_in=signed_in,
        query=query,
        report=report,
        tables=tables,
        charts=charts,
        agents=sorted(agents.items(), key=lambda item: item[1].lower()),
        agent_names=agents,
        problem=_(query.problem) % {"days": MAX_PERIOD_DAYS} if query.problem else None,
        local=lambda moment: moment.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
        may_read_comments=signed_in.may(Permission.READ_SURVEY_COMMENTS),
        solved_names={k: _(v) for k, v in SOLVED_NAMES.items()},
    )


def _tables(report: SessionReport, _: Any) -> dict[str, tuple[str, list[tuple[str, int]], int]]:
    """Every chart's title, (label, count) rows and x-label spacing."""
    days = len(report.per_day)
    return {
        "days": (
            _("Sessions per day"),
            [(d.strftime("%d.%m."), n) for d, n in report.per_day],
            max(1, days // 10),
        ),
        "hours": (
            _("Sessions per hour of day"),
            [(f"{h:02d}", n) for h, n in enumerate(report.per_hour)],
            2,
        ),
        "durations": (
            _("Duration of the sessions that ran"),
            [(_(DURATION_NAMES[k]), n) for k, n in report.durations],
            1,
        ),
        "outcomes": (
            _("Outcomes"),
            [(_(OUTCOME_NAMES[k]), n) for k, n in report.outcomes],
            1,
        ),
        "capabilities": (
            _("Capabilities used"),
            [(_(CAPABILITY_NAMES[k]), n) for k, n in report.capabilities],
            1,
        ),
        "stars": (
            _("Survey: stars"),
            [(str(k), n) for k, n in report.stars],
            1,
        ),
        "solved": (
            _("Survey: matter solved?"),
            [(_(SOLVED_NAMES[k]), n) for k, n in report.solved],
            1,
        ),
    }


def report_csv(report: SessionReport, agent_names: Mapping[int, str]) -> str:
    """The report's numbers as CSV rows ``section,key,value``, with stable codes as keys
    (ISO dates, hours, outcome codes), and the comments when the report has them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "key", "value"])
    p = report.period
    writer.writerow(["period", "from", p.first.isoformat()])
    writer.writerow(["period", "to", p.last.isoformat()])
    writer.writerow(["total", "sessions", report.sessions])
    writer.writerow(["total", "ran", report.ran])
    writer.writerow(["total", "answers", report.answers])
    writer.writerow(["total", "average_stars", _number(report.average_stars)])
    writer.writerows(["days", d.isoformat(), n] for d, n in report.per_day)
    writer.writerows(["hours", f"{h:02d}", n] for h, n in enumerate(report.per_hour))
    for section in ("durations", "outcomes", "capabilities", "stars", "solved"):
        writer.writerows([section, k, n] for k, n in getattr(report, section))
    for line in report.agents:
        name = _defused(agent_names.get(line.agent_id, str(line.agent_id)))
        for key in ("sessions", "ran", "median_minutes", "answers", "average_stars", "solved_yes"):
            writer.writerow([f"agent:{name}", key, _number(getattr(line, key))])
    for comment in report.comments:
        writer.writerow(["comment", comment.consultation_number, _defused(comment.text)])
    return out.getvalue()


def _number(value: float | int | None) -> str:
    return "" if value is None else str(value)


def _defused(text: str) -> str:
    """Customer text that a spreadsheet would run as a formula gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/reports.csv")
async def reports_csv(request: Request) -> Response:
    """The same numbers as the page, as a CSV download; audited before it is sent."""
    desk = desk_of(request)
    signed_in, query, report, agents = await _report(request)
    now = desk.clock()
    await desk.audit.record(
        AuditRecord(
            now,
            "report.exported",
            signed_in.agent.actor,
            "reports",
            {
                "from": query.period.first.isoformat(),
                "to": query.period.last.isoformat(),
                "agent": query.agent_id,
                "comments": len(report.comments),
            },
        )
    )
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        report_csv(report, agents),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="report-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
