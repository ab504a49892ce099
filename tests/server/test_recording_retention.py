"""The server's daily purge: the purge round itself on both databases, and its schedule."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from supportdesk.config import Settings
from supportdesk.recording_archive import RecordingArchive
from supportdesk.server.recordings.retention import (
    RETENTION_ACTOR,
    purge_expired,
    seconds_until_hour,
)
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.recordings import Recordings, RecordingState
from tests.recording.session import record_session

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


async def test_a_purge_round_destroys_expired_recordings_and_audits_each(
    settings: Settings,
) -> None:
    key = secrets.token_bytes(32)
    directory = settings.recording.directory
    directory.mkdir(parents=True)
    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    audit = AuditLog(sessions)
    archive = RecordingArchive(sessions, audit, directory, lambda: key, timedelta(days=90))
    try:
        for number, days, hold in (("BN-1", 120, False), ("BN-2", 120, True), ("BN-3", 10, False)):
            record_session(directory / f"{number}.sdrec", key, seconds=1, number=number)
            async with sessions.begin() as db:
                await Recordings(db).register(number, f"{number}.sdrec", NOW - timedelta(days=days))
                await Recordings(db).finish(number, "00" * 32, NOW - timedelta(days=days), 1)
                await Recordings(db).set_hold(number, hold)

        # Two never finished: one whose server died long ago, one still running.
        for number, started in (("BN-4", NOW - timedelta(days=120)), ("BN-5", NOW)):
            record_session(directory / f"{number}.sdrec", key, seconds=1, number=number)
            async with sessions.begin() as db:
                await Recordings(db).register(number, f"{number}.sdrec", started)

        await purge_expired(archive, NOW)

        assert not (directory / "BN-1.sdrec").exists()
        assert (directory / "BN-2.sdrec").exists() and (directory / "BN-3.sdrec").exists()
        states = {e.consultation_number: e.state for e in await archive.list()}
        assert states == {
            "BN-1": RecordingState.PURGED,
            "BN-2": RecordingState.FINISHED,
            "BN-3": RecordingState.FINISHED,
            "BN-4": RecordingState.PURGED,  # ended at the latest 10 h after its start
            "BN-5": RecordingState.RECORDING,
        }
        [entry] = await audit.for_subject("BN-1")
        assert (entry.event_type, entry.actor) == ("recording_purged", RETENTION_ACTOR)
        assert await audit.for_subject("BN-2") == []
        assert (await audit.verify()).ok

        await purge_expired(archive, NOW + timedelta(days=1))  # nothing left to do
        assert len(await audit.for_subject("BN-1")) == 1
    finally:
        await engine.dispose()


def test_the_purge_waits_for_the_next_configured_hour_in_utc() -> None:
    assert seconds_until_hour(datetime(2026, 11, 30, 2, 30, tzinfo=UTC), 3) == 30 * 60
    assert seconds_until_hour(datetime(2026, 11, 30, 3, 0, tzinfo=UTC), 3) == 24 * 3600
    assert seconds_until_hour(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), 3) == 4 * 3600
    berlin = datetime(2026, 11, 30, 3, 30).astimezone()  # any zone: compared in UTC
    assert 0 < seconds_until_hour(berlin, 3) <= 24 * 3600
