"""The exit survey's storage on both databases: the token's life (only a session that
ran, once, expiring), the comments' erasure after the request retention, and the
capabilities a session used surviving its end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select, text

from supportdesk.domain.agent_accounts import Role
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.session_events import SessionState
from supportdesk.server.state import desk_of_app
from supportdesk.store.exit_surveys import purge_old_comments
from supportdesk.store.models import AgentRow, SupportSessionRow, SurveyAnswerRow
from supportdesk.store.support_sessions import SupportSessionRecords
from tests.report_seed import BERLIN, seed_month
from tests.server.console_client import add_agent

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


async def test_tokens_answers_expiry_and_purge(app: FastAPI) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna", Role.AGENT)
    async with desk.sessions() as db:
        anna = await db.scalar(select(AgentRow.id))
    assert anna is not None
    await seed_month(desk.sessions, [anna], datetime(2026, 11, 1, tzinfo=BERLIN), days=3)
    async with desk.sessions.begin() as db:
        await db.execute(text("DELETE FROM survey_answers"))
    async with desk.sessions() as db:
        rows = list(await db.scalars(select(SupportSessionRow)))
    ran = [r.consultation_number for r in rows if r.started_at is not None]
    never = [r.consultation_number for r in rows if r.started_at is None]
    surveys = desk.remote.surveys

    assert all([await surveys.hand_out(n, NOW) is None for n in never])
    token = await surveys.hand_out(ran[0], NOW)
    assert token and await surveys.hand_out(ran[0], NOW) is None  # one token a session
    stored = await surveys.answer(token, {"stars": 4, "comment": "Danke!"}, NOW, "c1")
    assert stored.result.value == "stored"
    assert await surveys.hand_out(ran[0], NOW) is None  # answered: never again

    late = await surveys.hand_out(ran[1], NOW)
    assert late
    after_a_day = NOW + timedelta(hours=24, seconds=1)
    assert (await surveys.answer(late, {"stars": 2}, after_a_day, "c1")).result.value == "unknown"

    # The comment goes with the request retention; the stars stay.
    assert await purge_old_comments(desk.audit, timedelta(days=90), NOW + timedelta(days=89)) == 0
    assert await purge_old_comments(desk.audit, timedelta(days=90), NOW + timedelta(days=90)) == 1
    assert await purge_old_comments(desk.audit, timedelta(days=90), NOW + timedelta(days=91)) == 0
    async with desk.sessions() as db:
        answer = await db.scalar(select(SurveyAnswerRow))
        purged = (
            await db.execute(
                text(
                    "SELECT data, actor, subject FROM audit_entries "
                    "WHERE event_type = 'survey.comments_purged'"
                )
            )
        ).all()
    assert answer is not None and answer.comment is None and answer.stars == 4
    assert answer.comment_purged_at is not None
    assert len(purged) == 1 and "Danke" not in purged[0][0]
    # The count and the rule, never the text: answered at NOW, purged 90 days later.
    assert json.loads(purged[0][0]) == {
        "count": 1,
        "retention_days": 90,
        "answered_before": "2026-11-30T10:00:00.000000Z",
    }
    assert tuple(purged[0][1:]) == ("system", "survey_answers")


async def test_capabilities_used_survive_the_end(app: FastAPI) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna", Role.AGENT)
    async with desk.sessions() as db:
        anna = await db.scalar(select(AgentRow.id))
    assert anna is not None
    await seed_month(desk.sessions, [anna], datetime(2026, 11, 1, tzinfo=BERLIN), days=1)
    async with desk.sessions() as db:
        number = await db.scalar(select(SupportSessionRow.consultation_number))
    assert number
    async with desk.sessions.begin() as db:
        await db.execute(text("UPDATE support_sessions SET capabilities_used = ''"))
        records = SupportSessionRecords(db)
        view, control = Capability.VIEW, Capability.CONTROL
        await records.save_state(number, SessionState.ACTIVE, frozenset({view, control}), NOW)
        await records.save_state(number, SessionState.ACTIVE, frozenset({view}), NOW)  # revoked
        await records.save_state(number, SessionState.ENDED, frozenset(), NOW)
    async with desk.sessions() as db:
        row = await db.scalar(
            select(SupportSessionRow).where(SupportSessionRow.consultation_number == number)
        )
    assert row is not None
    assert row.capabilities == "" and row.capabilities_used == "control,view"
