"""Migration 0005 on both databases: existing recordings become segment 1, and a
session may then register segment 2 but never the same segment twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from supportdesk.config import Settings
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.migrate import upgrade
from supportdesk.store.recordings import Recordings

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def test_existing_rows_become_segment_one_and_segments_are_unique_per_session(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(database_url)
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine, "0004")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO recordings (consultation_number, file_name, started_at,"
                    " ended_at, final_hash, legal_hold, size)"
                    " VALUES ('B-7', 'B-7.sdrec', :start, :start, :hash, :hold, 10)"
                ),
                {"start": START, "hash": "ab" * 32, "hold": True},
            )
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as db:
            entry = await Recordings(db).require("B-7")
        assert [(s.segment, s.interrupted, s.previous_hash) for s in entry.segments] == [
            (1, False, None)
        ]
        async with sessions.begin() as db:
            await Recordings(db).register(
                "B-7", "B-7.seg2.sdrec", START, segment=2, previous_hash="ab" * 32
            )
        async with sessions() as db:
            entry = await Recordings(db).require("B-7")
        assert [s.segment for s in entry.segments] == [1, 2]
        assert entry.segments[1].legal_hold  # the hold on the recording covers new segments
        assert entry.ended_at is None and entry.size == 10
        with pytest.raises(IntegrityError):
            async with sessions.begin() as db:
                await Recordings(db).register("B-7", "again.sdrec", START, segment=2)
    finally:
        await engine.dispose()
