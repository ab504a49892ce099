"""Fail closed: write errors raise RecordingUnavailable, probe() resumes, no record is lost."""

from __future__ import annotations

import asyncio
import errno
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import supportdesk.recording.writer as writer_module
from supportdesk.recording import (
    RecordingReader,
    RecordingUnavailable,
    RecordingWriter,
    RecordKind,
    SessionRecorder,
    verify,
)

from .session import START


class FlakyOS:
    """The os module, except that a 'full disk' takes only ``budget`` more bytes."""

    def __init__(self) -> None:
        self.full = False
        self.budget = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: Any) -> int:
        if self.full:
            if self.budget <= 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            n = os.write(fd, bytes(data)[: self.budget])  # a short write first
            self.budget -= n
            return n
        return os.write(fd, data)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> FlakyOS:
    fake = FlakyOS()
    monkeypatch.setattr(writer_module, "os", fake)
    return fake


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_a_header_the_full_disk_refused_leaves_no_file_behind(
    tmp_path: Path, master_key: bytes, flaky: FlakyOS
) -> None:
    flaky.full, flaky.budget = True, 10  # a torn header, then nothing
    for attempt in range(3):  # the relay retries under a fresh name each time
        with pytest.raises(RecordingUnavailable):
            RecordingWriter.create(
                tmp_path / f"r{attempt}.sdrec", "BN-2026-4821-7730-8", master_key, START
            )
        flaky.budget = 0
    assert list(tmp_path.iterdir()) == []
    flaky.full = False
    RecordingWriter.create(tmp_path / "r.sdrec", "BN-2026-4821-7730-8", master_key, START)
    assert [p.name for p in tmp_path.iterdir()] == ["r.sdrec"]


def test_disk_full_fails_closed_and_probe_resumes(
    tmp_path: Path, master_key: bytes, flaky: FlakyOS
) -> None:
    path = tmp_path / "r.sdrec"
    writer = RecordingWriter.create(path, "BN-2026-4821-7730-8", master_key, START)
    writer.record(RecordKind.CONTROL, 0, b"before", at(0))
    writer.tick(at(1))
    writer.record(RecordKind.CONTROL, 0, b"accepted, then the disk filled", at(1.1))
    flaky.full, flaky.budget = True, 30  # part of the chunk lands on disk
    with pytest.raises(RecordingUnavailable):
        writer.tick(at(2))
    assert not writer.available
    assert not writer.flush_due(at(5))
    writer.record(RecordKind.CONTROL, 0, b"in flight, kept in memory", at(2.1))
    with pytest.raises(RecordingUnavailable):
        writer.record(RecordKind.RFB_SERVER_TO_CLIENT, 1, bytes(writer.outage_bytes), at(2.2))
    assert not writer.probe()  # still full
    flaky.full = False
    assert writer.probe()
    assert writer.available
    writer.record(RecordKind.CONTROL, 0, b"after", at(3))
    final = writer.close(at(4))
    with RecordingReader(path, master_key) as reader:
        payloads = [r.payload for r in reader.records()]
    assert payloads == [
        b"before",
        b"accepted, then the disk filled",
        b"in flight, kept in memory",
        b"after",
    ]
    assert verify(path, master_key, final).ok


def test_a_failed_size_seal_keeps_the_record(
    tmp_path: Path, master_key: bytes, flaky: FlakyOS
) -> None:
    path = tmp_path / "r.sdrec"
    writer = RecordingWriter.create(
        path, "BN-2026-4821-7730-8", master_key, START, chunk_bytes=1000
    )
    flaky.full = True
    writer.record(RecordKind.RFB_SERVER_TO_CLIENT, 1, bytes(2000), at(0))  # seals, fails
    assert not writer.available
    flaky.full = False
    assert writer.probe()
    writer.close(at(1))
    with RecordingReader(path, master_key) as reader:
        assert [len(r.payload) for r in reader.records()] == [2000]


async def test_session_recorder_pauses_and_resumes(
    tmp_path: Path, master_key: bytes, flaky: FlakyOS
) -> None:
    clock_now = [START]
    events: list[str] = []

    async def unavailable(problem: str) -> None:
        events.append("unavailable")

    async def available() -> None:
        events.append("available")

    recorder = SessionRecorder.create(
        tmp_path / "s.sdrec",
        "BN-2026-4821-7730-8",
        master_key,
        lambda: clock_now[0],
        on_unavailable=unavailable,
        on_available=available,
        tick_interval=0.01,
        probe_interval=0.01,
    )
    task = asyncio.create_task(recorder.run())
    assert recorder.control({"type": "state", "customer_name": "Erika Muster", "paused": False})
    assert recorder.server_to_client(1, b"RFB 003.008\n")
    clock_now[0] = at(1)
    await asyncio.sleep(0.1)  # ticked: on disk
    flaky.full = True
    assert recorder.chat({"from": "agent", "text": "Moment bitte"})  # buffered, accepted
    clock_now[0] = at(2)
    for _ in range(100):
        await asyncio.sleep(0.01)
        if events:
            break
    assert events == ["unavailable"]
    assert not recorder.available
    assert recorder.client_to_server(1, b"\x05\x00\x00\x01\x00\x01")  # in flight: kept
    assert not recorder.server_to_client(1, bytes(recorder.writer.outage_bytes))  # refused
    flaky.full = False
    for _ in range(100):
        await asyncio.sleep(0.01)
        if len(events) == 2:
            break
    assert events == ["unavailable", "available"]
    assert recorder.file_event({"file": "kontoauszug.pdf", "state": "done"})
    final = await recorder.close()
    await asyncio.wait_for(task, 1)
    with RecordingReader(tmp_path / "s.sdrec", master_key) as reader:
        records = list(reader.records())
    assert [r.kind for r in records] == [
        RecordKind.CONTROL,
        RecordKind.RFB_SERVER_TO_CLIENT,
        RecordKind.CHAT,
        RecordKind.RFB_CLIENT_TO_SERVER,
        RecordKind.FILE_EVENT,
    ]
    assert b"Erika" not in records[0].payload  # the name is not stored
    assert verify(tmp_path / "s.sdrec", master_key, final).ok


async def test_closing_on_a_full_disk_raises_and_leaves_the_durable_part(
    tmp_path: Path, master_key: bytes, flaky: FlakyOS
) -> None:
    path = tmp_path / "s.sdrec"
    recorder = SessionRecorder.create(path, "BN-2026-4821-7730-8", master_key, lambda: START)
    assert recorder.chat({"text": "kept"})
    recorder.writer.tick()
    flaky.full = True
    assert recorder.chat({"text": "lost with the disk"})
    with pytest.raises(RecordingUnavailable):
        await recorder.close()
    with RecordingReader(path, master_key) as reader:
        assert [r.payload for r in reader.records()] == [b'{"text":"kept"}']
        assert not reader.closed_cleanly
