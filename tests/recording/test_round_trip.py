"""Writer and reader together: round trip, chain hash, flags, events, wrong key, destroy."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.recording import (
    RecordingDestroyed,
    RecordingReader,
    RecordingWriter,
    RecordKind,
    WrongMasterKey,
    destroy,
    verify,
)
from supportdesk.recording.format import ChunkFlags
from supportdesk.recording.reader import Problem

from .session import START

NUMBER = "BN-2026-4821-7730-8"


def write_sample(path: Path, key: bytes, seconds: int = 5) -> tuple[list[tuple[int, int]], str]:
    writer = RecordingWriter.create(path, NUMBER, key, START)
    written: list[tuple[int, int]] = []
    for i in range(seconds * 10):
        at = START + timedelta(milliseconds=100 * i)
        writer.record(RecordKind.RFB_SERVER_TO_CLIENT, 1, bytes([i % 256]) * 100, at)
        written.append((100_000 * i, i))
        if writer.flush_due(at):
            writer.tick(at)
    final = writer.close(START + timedelta(seconds=seconds))
    return written, final


def test_round_trip_keeps_every_record_in_order(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "r.sdrec"
    written, final = write_sample(path, master_key)
    with RecordingReader(path, master_key) as reader:
        records = list(reader.records())
        assert reader.consultation_number == NUMBER
        assert reader.started_at == START
        assert reader.closed_cleanly and not reader.truncated
        assert len(reader.index) > 5  # flushed about twice a second
    assert [(r.at_us, r.payload[0]) for r in records] == [(t, i % 256) for t, i in written]
    assert all(r.kind is RecordKind.RFB_SERVER_TO_CLIENT and r.channel == 1 for r in records)
    report = verify(path, master_key, expected_final_hash=final)
    assert report.ok, report.detail
    assert report.final_hash == final
    assert report.records == len(written)
    assert report.closed_cleanly


def test_mixed_records_flags_and_events(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "r.sdrec"
    writer = RecordingWriter.create(path, NUMBER, master_key, START)
    writer.record(RecordKind.CONTROL, 0, b'{"type":"state"}', START)
    writer.record(RecordKind.RFB_SERVER_TO_CLIENT, 2, b"RFB 003.008\n", START)
    writer.record(RecordKind.RFB_CLIENT_TO_SERVER, 2, b"RFB 003.008\n", START)
    writer.tick(START)
    writer.record(RecordKind.CHAT, 0, b'{"text":"Hallo"}', START + timedelta(seconds=2))
    writer.record(RecordKind.FILE_EVENT, 0, b'{"file":"a.txt"}', START + timedelta(seconds=3))
    writer.close(START + timedelta(seconds=4))
    with RecordingReader(path, master_key) as reader:
        flags = [e.header.flags for e in reader.index.entries]
        assert flags[0] & ChunkFlags.EVENTS
        assert flags[1] & ChunkFlags.CHANNEL_START and reader.index.entries[1].header.channel == 2
        assert flags[-1] & ChunkFlags.FINAL
        assert reader.index.channels == [2]
        events = list(reader.events())
        assert [e.kind for e in events] == [
            RecordKind.CONTROL,
            RecordKind.CHAT,
            RecordKind.FILE_EVENT,
        ]
        late = list(reader.records(start_us=2_500_000))
        assert [r.kind for r in late] == [RecordKind.FILE_EVENT]


def test_clock_stepping_back_keeps_times_monotonic(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "r.sdrec"
    writer = RecordingWriter.create(path, NUMBER, master_key, START)
    writer.record(RecordKind.CONTROL, 0, b"a", START + timedelta(seconds=2))
    writer.record(RecordKind.CONTROL, 0, b"b", START + timedelta(seconds=1))
    writer.close(START + timedelta(seconds=3))
    with RecordingReader(path, master_key) as reader:
        assert [r.at_us for r in reader.records()] == [2_000_000, 2_000_000]
    assert verify(path, master_key).ok


def test_wrong_master_key_fails_cleanly(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "r.sdrec"
    write_sample(path, master_key, seconds=1)
    with pytest.raises(WrongMasterKey):
        RecordingReader(path, secrets.token_bytes(32))
    report = verify(path, secrets.token_bytes(32))
    assert report.problem is Problem.WRONG_MASTER_KEY and not report.ok


def test_destroy_makes_the_recording_unreadable(
    tmp_path: Path, master_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.sdrec"
    write_sample(path, master_key, seconds=1)
    # A copy taken after the key is overwritten (just before the unlink) is noise.
    copy = tmp_path / "copy-after.sdrec"
    real_unlink = Path.unlink

    def copy_then_unlink(self: Path, missing_ok: bool = False) -> None:
        copy.write_bytes(self.read_bytes())
        real_unlink(self, missing_ok)

    monkeypatch.setattr(Path, "unlink", copy_then_unlink)
    assert destroy(path)
    monkeypatch.undo()
    assert not path.exists()
    assert not destroy(path)  # idempotent
    with pytest.raises(RecordingDestroyed):
        RecordingReader(copy, master_key)
    assert verify(copy, master_key).problem is Problem.DESTROYED
    assert copy.stat().st_size > 0


def test_create_refuses_to_overwrite_and_reports_unwritable(
    tmp_path: Path, master_key: bytes
) -> None:
    from supportdesk.recording import RecordingUnavailable

    path = tmp_path / "r.sdrec"
    write_sample(path, master_key, seconds=1)
    with pytest.raises(RecordingUnavailable):
        RecordingWriter.create(path, NUMBER, master_key, START)
    with pytest.raises(RecordingUnavailable):
        RecordingWriter.create(tmp_path / "missing" / "r.sdrec", NUMBER, master_key, START)


def test_abort_leaves_a_readable_recording_without_final_chunk(
    tmp_path: Path, master_key: bytes
) -> None:
    path = tmp_path / "r.sdrec"
    writer = RecordingWriter.create(path, NUMBER, master_key, START)
    writer.record(RecordKind.CONTROL, 0, b"x", START)
    writer.abort()
    with RecordingReader(path, master_key) as reader:
        assert [r.payload for r in reader.records()] == [b"x"]
        assert not reader.closed_cleanly
