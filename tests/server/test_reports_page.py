"""/console/reports on the real app and database (both back ends), with a seeded month:
who may see it, that its numbers are the database's, that the CSV has the page's numbers,
and that customers' comments are escaped, defused in the CSV, and shown to supervisors
only."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text

from supportdesk.domain.agent_accounts import Role
from supportdesk.server.state import Desk, desk_of_app
from supportdesk.store.models import AgentRow, SupportSessionRow, SurveyAnswerRow
from tests.report_seed import BERLIN, HOSTILE, seed_month
from tests.server.console_client import add_agent, log_in

FIRST = datetime(2026, 11, 1, tzinfo=BERLIN)
QUERY = "from=2026-11-01&to=2026-11-30"
BAR = re.compile(r'<rect class="bar"[^>]*data-label="([^"]*)" data-value="(\d+)"')


async def seeded(app: FastAPI) -> tuple[Desk, dict[str, int]]:
    desk = desk_of_app(app)
    for name, role in (("anna", Role.AGENT), ("bernd", Role.AGENT), ("sophie", Role.SUPERVISOR),
                       ("rita", Role.AUDITOR), ("adam", Role.ADMIN)):  # fmt: skip
        await add_agent(desk, name, role)
    async with desk.sessions() as db:
        ids = {r.username: r.id for r in await db.scalars(select(AgentRow))}
    await seed_month(desk.sessions, [ids["anna"], ids["bernd"]], FIRST)
    return desk, ids


def charts(page: str) -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for part in page.split('<svg class="chart" data-chart="chart-')[1:]:
        key = part.split('"', 1)[0]
        found[key] = [(label, int(v)) for label, v in BAR.findall(part.split("</svg>")[0])]
    return found


async def test_the_page_shows_the_databases_numbers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk, ids = await seeded(app)
    await log_in(client, desk, "sophie")
    page = await client.get(f"/console/reports?{QUERY}")
    assert page.status_code == 200
    shown = charts(page.text)
    async with desk.sessions() as db:
        total = await db.scalar(select(func.count()).select_from(SupportSessionRow))
        ran = await db.scalar(select(func.count()).where(SupportSessionRow.started_at.is_not(None)))
        declined = await db.scalar(
            select(func.count()).where(SupportSessionRow.state == "declined")
        )
        by_reason = dict(
            (await db.execute(
                select(SupportSessionRow.end_reason, func.count())
                .where(SupportSessionRow.state == "ended")
                .group_by(SupportSessionRow.end_reason)
            )).all()
        )  # fmt: skip
        five_stars = await db.scalar(select(func.count()).where(SurveyAnswerRow.stars == 5))
        control = await db.scalar(
            select(func.count()).where(SupportSessionRow.capabilities_used.contains("control"))
        )
        comments = (await db.scalars(
            select(SurveyAnswerRow.comment).where(SurveyAnswerRow.comment.is_not(None))
        )).all()  # fmt: skip
    assert sum(v for _l, v in shown["days"]) == total and len(shown["days"]) == 30
    assert sum(v for _l, v in shown["hours"]) == total
    assert sum(v for _l, v in shown["durations"]) == ran
    outcomes = dict(shown["outcomes"])
    assert outcomes["Abgelehnt durch den Kunden"] == declined
    assert outcomes["Beendet durch den Kunden"] == by_reason.get("customer", 0)
    assert outcomes["Verbindung unterbrochen"] == by_reason.get("connection_lost", 0)
    assert dict(shown["stars"])["5"] == five_stars
    assert dict(shown["capabilities"])["Steuern"] == control
    assert dict(shown["capabilities"])["Ansehen"] == ran
    # One day by hand: the SQL count of the 3rd of November, local time.
    async with desk.sessions() as db:
        third = await db.scalar(
            select(func.count()).where(
                SupportSessionRow.issued_at >= datetime(2026, 11, 3, tzinfo=BERLIN),
                SupportSessionRow.issued_at < datetime(2026, 11, 4, tzinfo=BERLIN),
            )
        )
    assert dict(shown["days"])["03.11."] == third
    # The comments are there, escaped: no markup of the customer's reaches the page.
    assert HOSTILE in comments
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "Sehr freundlich, danke!" in page.text
    # Per agent: anna's row counts anna's sessions.
    async with desk.sessions() as db:
        annas = await db.scalar(
            select(func.count()).where(SupportSessionRow.agent_id == ids["anna"])
        )
    anna_row = rf'<tr data-agent="{ids["anna"]}">\s*<th scope="row">Anna</th>\s*<td>(\d+)</td>'
    row = re.search(anna_row, page.text)
    assert row and int(row.group(1)) == annas
    only_anna = charts((await client.get(f"/console/reports?{QUERY}&agent={ids['anna']}")).text)
    assert sum(v for _l, v in only_anna["days"]) == annas


async def test_the_csv_has_the_pages_numbers(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk, _ids = await seeded(app)
    await log_in(client, desk, "sophie")
    shown = charts((await client.get(f"/console/reports?{QUERY}")).text)
    exported = await client.get(f"/console/reports.csv?{QUERY}")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["section", "key", "value"]
    by_section: dict[str, list[int]] = {}
    for section, _key, value in rows[1:]:
        if section in shown:
            by_section.setdefault(section, []).append(int(value))
    for key, bars in shown.items():
        assert by_section[key] == [v for _l, v in bars], key
    days = [r for r in rows if r[0] == "days"]
    assert days[0][1] == "2026-11-01" and days[-1][1] == "2026-11-30"
    comments = [r[2] for r in rows if r[0] == "comment"]
    assert "'" + HOSTILE in comments, "a formula in a comment is defused"
    assert HOSTILE not in comments
    async with desk.sessions() as db:
        exports = (await db.execute(
            text("SELECT actor FROM audit_entries WHERE event_type = 'report.exported'")
        )).all()  # fmt: skip
    assert [e[0] for e in exports] == ["agent:sophie"]


async def test_auditors_and_admins_see_counts_only(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk, _ids = await seeded(app)
    for who in ("rita", "adam"):
        client.cookies.clear()
        await log_in(client, desk, who)
        page = await client.get(f"/console/reports?{QUERY}")
        assert page.status_code == 200
        assert sum(v for _l, v in charts(page.text)["days"]) > 0
        assert "Sehr freundlich" not in page.text and "alert" not in page.text
        assert "data-no-comments" in page.text
        exported = await client.get(f"/console/reports.csv?{QUERY}")
        assert "Sehr freundlich" not in exported.text
        assert not [r for r in csv.reader(io.StringIO(exported.text)) if r[0] == "comment"]


async def test_agents_may_not_see_reports(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk, _ids = await seeded(app)
    await log_in(client, desk, "anna")
    assert (await client.get("/console/reports")).status_code == 403
    assert (await client.get("/console/reports.csv")).status_code == 403
    assert "/console/reports" not in (await client.get("/console/")).text


async def test_a_period_that_cannot_be_used_falls_back(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk, _ids = await seeded(app)
    await log_in(client, desk, "sophie")
    for query in ("from=2026-11-30&to=2026-11-01", "from=2020-01-01&to=2026-11-30"):
        page = await client.get(f"/console/reports?{query}")
        assert page.status_code == 200 and "data-report-problem" in page.text
        assert len(charts(page.text)["days"]) == 30
    junk = await client.get("/console/reports?from=%00&to=x&agent=-1")
    assert junk.status_code == 200
