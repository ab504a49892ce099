"""A month of support sessions written straight into the database, for the reports'
tests: every outcome, durations from a minute to over an hour, capabilities, survey
answers with and without comments (one of them hostile), across two agents."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.store.models import SupportSessionRow, SurveyAnswerRow

BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = '=HYPERLINK("http://evil") <script>alert("x")</script>'
REASONS = ["customer", "agent", "timeout", "connection_lost", "recording_limit", "error"]


async def seed_month(
    sessions: async_sessionmaker[AsyncSession],
    agent_ids: Sequence[int],
    first_day: datetime,
    days: int = 30,
    seed: int = 18,
) -> int:
    """Write 3–9 sessions a day for ``days`` days from ``first_day`` (local midnight);
    returns how many. Deterministic for a ``seed``."""
    rng = random.Random(seed)
    rows: list[SupportSessionRow] = []
    answers: list[SurveyAnswerRow] = []
    for day in range(days):
        for _n in range(rng.randint(3, 9)):
            issued = (first_day + timedelta(days=day)).replace(
                hour=rng.randint(7, 19), minute=rng.randint(0, 59), tzinfo=BERLIN
            )
            number = f"FW-{issued:%Y%m%d}-{secrets.token_hex(3).upper()}"
            row = SupportSessionRow(
                consultation_number=number,
                agent_id=rng.choice(list(agent_ids)),
                verification_code="123456",
                key_digest=secrets.token_hex(32),
                key_prefix_digest=secrets.token_hex(32),
                key_wrong_tries=0,
                key_void_after=5,
                issued_at=issued,
                expires_at=issued + timedelta(minutes=10),
                state="issued",
                capabilities="",
            )
            fate = rng.random()
            if fate < 0.1:
                row.state = "expired"  # key never redeemed
            elif fate < 0.15:
                row.state, row.redeemed_at = "expired", issued + timedelta(minutes=1)
            elif fate < 0.25:
                row.state, row.redeemed_at = "declined", issued + timedelta(minutes=1)
                row.ended_at, row.end_reason = issued + timedelta(minutes=2), "declined"
            else:
                row.redeemed_at = issued + timedelta(minutes=1)
                row.started_at = issued + timedelta(minutes=2)
                row.ended_at = row.started_at + timedelta(seconds=rng.randint(40, 80 * 60))
                row.state, row.end_reason = "ended", rng.choice(REASONS)
                used = {"view"} | {c for c in ("control", "file_transfer", "diagnostics")
                                   if rng.random() < 0.4}  # fmt: skip
                row.capabilities_used = ",".join(sorted(used))
                if rng.random() < 0.6:
                    answers.append(
                        SurveyAnswerRow(
                            consultation_number=number,
                            stars=rng.choice([None, 1, 2, 3, 4, 5, 5, 4]),
                            solved=rng.choice([None, "yes", "partly", "no", "yes"]),
                            comment=rng.choice([None, None, "Sehr freundlich, danke!", HOSTILE]),
                            answered_at=row.ended_at + timedelta(minutes=1),
                        )
                    )
            rows.append(row)
    async with sessions.begin() as db:
        db.add_all(rows)
        await db.flush()
        db.add_all(answers)
    return len(rows)
