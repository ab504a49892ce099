"""The exit survey in the database: its one-time token on the session's row, the
answers (by consultation number, never a name), the erasure of old comments, and the
sessions of a period as the reports read them.

A token is handed out only for a session that ran (it has a start and is ended) and
only once; answering spends it in the same transaction that stores the answer, and the
answers table allows one row per session, so neither a replayed token nor two racing
requests store a second answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.domain.exit_survey import SurveyAnswer
from supportdesk.domain.session_events import SessionState
from supportdesk.domain.session_report import Period, ReportSession, SurveyFacts
from supportdesk.store.agents import aware
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.models import SupportSessionRow, SurveyAnswerRow
from supportdesk.store.retention_purge import purge_audited, rows_changed

PURGE_ACTOR = "system"


async def issue_token(
    session: AsyncSession, number: str, digest: str, expires_at: datetime
) -> bool:
    """Give the ended session ``number`` the survey token of ``digest``; False (and
    nothing written) if it never ran, is not over, has a token or an answer already."""
    answered = exists().where(SurveyAnswerRow.consultation_number == number)
    result = await session.execute(
        update(SupportSessionRow)
        .where(SupportSessionRow.consultation_number == number)
        .where(SupportSessionRow.state == SessionState.ENDED.value)
        .where(SupportSessionRow.started_at.is_not(None))
        .where(SupportSessionRow.survey_token_digest.is_(None))
        .where(~answered)
        .values(survey_token_digest=digest, survey_token_expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


async def take_token(session: AsyncSession, digest: str, now: datetime) -> str | None:
    """The consultation number whose unexpired survey token has ``digest``; the token is
    spent either way (a second use finds nothing). Locked on PostgreSQL, so two requests
    with the same token are decided one after the other."""
    row = await session.scalar(
        select(SupportSessionRow)
        .where(SupportSessionRow.survey_token_digest == digest)
        .with_for_update()
    )
    if row is None:
        return None
    row.survey_token_digest = None
    expires = row.survey_token_expires_at
    if expires is None or aware(expires) <= now:
        return None
    return row.consultation_number


def add_answer(session: AsyncSession, number: str, answer: SurveyAnswer, now: datetime) -> None:
    """Store ``answer`` for session ``number`` (the caller took its token)."""
    session.add(
        SurveyAnswerRow(
            consultation_number=number,
            stars=answer.stars,
            solved=answer.solved.value if answer.solved else None,
            comment=answer.comment,
            answered_at=now,
        )
    )


async def answer_count(session: AsyncSession) -> int:
    """How many answers are stored (tests and the operations' sanity checks)."""
    rows = await session.scalars(select(SurveyAnswerRow.id))
    return len(rows.all())


async def purge_old_comments(audit: AuditLog, retention: timedelta, now: datetime) -> int:
    """Erase the comments answered at least ``retention`` ago (stars and "solved" stay:
    they say nothing about a person); audited with the count, never the text.
    Idempotent: a second run finds nothing left."""
    cutoff = now - retention

    async def erase(session: AsyncSession) -> int:
        result = await session.execute(
            update(SurveyAnswerRow)
            .where(SurveyAnswerRow.answered_at <= cutoff)
            .where(SurveyAnswerRow.comment.is_not(None))
            .values(comment=None, comment_purged_at=now)
            .execution_options(synchronize_session=False)
        )
        return rows_changed(result)

    return await purge_audited(
        audit,
        "survey.comments_purged",
        actor=PURGE_ACTOR,
        subject="survey_answers",
        cutoff_key="answered_before",
        retention=retention,
        cutoff=cutoff,
        now=now,
        erase=erase,
    )


async def report_sessions(session: AsyncSession, period: Period) -> list[ReportSession]:
    """Every session issued within ``period``, with its survey answer (one query)."""
    s, a = SupportSessionRow, SurveyAnswerRow
    query = (
        select(
            s.consultation_number,
            s.agent_id,
            s.state,
            s.issued_at,
            s.redeemed_at,
            s.started_at,
            s.ended_at,
            s.end_reason,
            s.capabilities_used,
            a.stars,
            a.solved,
            a.comment,
            a.answered_at,
        )
        .outerjoin(a, a.consultation_number == s.consultation_number)
        .where(s.issued_at >= period.start)
        .where(s.issued_at < period.end)
        .order_by(s.issued_at)
    )
    found = []
    for row in (await session.execute(query)).all():
        survey = (
            SurveyFacts(row.stars, row.solved, row.comment, aware(row.answered_at))
            if row.answered_at is not None
            else None
        )
        found.append(
            ReportSession(
                consultation_number=row.consultation_number,
                agent_id=row.agent_id,
                state=row.state,
                issued_at=aware(row.issued_at),
                redeemed_at=aware(row.redeemed_at) if row.redeemed_at else None,
                started_at=aware(row.started_at) if row.started_at else None,
                ended_at=aware(row.ended_at) if row.ended_at else None,
                end_reason=row.end_reason,
                capabilities_used=frozenset(c for c in row.capabilities_used.split(",") if c),
                survey=survey,
            )
        )
    return found
