"""The register of recordings on both databases: register, finish, hold, purge, list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.config import Settings
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.recordings import Recordings, RecordingState, UnknownRecording

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database.url)
    yield session_factory(engine)
    await engine.dispose()


async def test_a_recording_is_registered_finished_held_and_purged(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as db:
        await Recordings(db).register("B-1001", "B-1001.sdrec", START)
    async with sessions() as db:
        entry = await Recordings(db).require("B-1001")
    assert entry.state is RecordingState.RECORDING
    assert (entry.ended_at, entry.final_hash, entry.legal_hold, entry.size) == (
        None,
        None,
        False,
        0,
    )

    async with sessions.begin() as db:
        await Recordings(db).finish("B-1001", "ab" * 32, START + timedelta(minutes=7), 4096)
        await Recordings(db).set_hold("B-1001", True)
    async with sessions() as db:
        entry = await Recordings(db).require("B-1001")
    assert entry.state is RecordingState.FINISHED
    assert entry.ended_at == START + timedelta(minutes=7)
    assert (entry.final_hash, entry.size, entry.legal_hold) == ("ab" * 32, 4096, True)

    async with sessions.begin() as db:
        await Recordings(db).mark_purged("B-1001", START + timedelta(days=100))
    async with sessions() as db:
        entry = await Recordings(db).require("B-1001")
    assert entry.state is RecordingState.PURGED
    assert entry.purged_at == START + timedelta(days=100)


async def test_the_list_is_newest_first_and_can_leave_out_purged_ones(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as db:
        for i in range(3):
            await Recordings(db).register(f"B-{i}", f"B-{i}.sdrec", START + timedelta(hours=i))
        await Recordings(db).mark_purged("B-1", START + timedelta(days=91))
    async with sessions() as db:
        everything = await Recordings(db).list()
        kept = await Recordings(db).list(include_purged=False)
    assert [e.consultation_number for e in everything] == ["B-2", "B-1", "B-0"]
    assert [e.consultation_number for e in kept] == ["B-2", "B-0"]


async def test_unknown_numbers_and_duplicates_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as db:
        assert await Recordings(db).get("B-404") is None
        with pytest.raises(UnknownRecording, match="B-404"):
            await Recordings(db).set_hold("B-404", True)
    async with sessions.begin() as db:
        await Recordings(db).register("B-1", "B-1.sdrec", START)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as db:
            await Recordings(db).register("B-1", "other.sdrec", START)
