"""The live recording's pure parts: keyframes put together from the applet's pieces,
records waiting for the file (written in order into a real recording), and the
meter that charges the session's budget and says the rate and the quota once."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from supportdesk.recording import RecordingReader, SessionRecorder
from supportdesk.recording.budget import BudgetLimits
from supportdesk.recording.format import RecordKind
from supportdesk.server.recordings.keyframe_pieces import LAST, MORE, KeyframePieces
from supportdesk.server.recordings.pending_records import PendingRecords, file_chunk_data
from supportdesk.server.recordings.recording_meter import RecordingMeter

from .session import START


def test_a_keyframe_comes_whole_with_its_last_piece() -> None:
    pieces = KeyframePieces()
    pieces.opened(2)
    assert pieces.add(2, bytes([MORE]) + b"abc") is None
    assert pieces.add(2, bytes([LAST]) + b"def") == b"abcdef"
    assert pieces.add(2, bytes([LAST]) + b"g") == b"g"  # the next one starts afresh


def test_pieces_for_a_closed_channel_or_beyond_one_record_are_dropped() -> None:
    pieces = KeyframePieces(max_payload=4)
    assert pieces.add(1, bytes([LAST]) + b"x") is None  # never opened
    pieces.opened(1)
    pieces.add(1, bytes([MORE]) + b"ab")
    pieces.closed(1)
    pieces.opened(1)
    assert pieces.add(1, bytes([LAST]) + b"cd") == b"cd"  # the closed one's piece is gone
    assert pieces.add(1, bytes([MORE]) + b"abcde") is None  # too large: dropped
    assert pieces.add(1, bytes([LAST]) + b"f") == b"f"
    assert pieces.add(1, b"") is None
    pieces.opened(3)
    assert pieces.channels == [1, 3]


def test_a_file_chunk_is_recorded_as_its_bytes_anything_else_as_it_came() -> None:
    data = base64.b64encode(b"%PDF-1.7").decode()
    assert file_chunk_data({"type": "file_chunk", "data": data}) == b"%PDF-1.7"
    assert file_chunk_data({"type": "file_chunk", "data": "not base64!"}) is None
    assert file_chunk_data({"type": "chat", "data": data}) is None


def test_pending_records_are_bounded() -> None:
    pending = PendingRecords(limit=10)
    assert pending.keep(RecordKind.RFB_SERVER_TO_CLIENT, 1, b"12345678", 8)
    assert not pending.keep(RecordKind.CHAT, 0, {"text": "hallo"}, 256)
    assert pending.keep(RecordKind.RFB_CLIENT_TO_SERVER, 1, b"12", 2)
    assert pending.rfb_bytes == 10


async def test_pending_records_are_written_in_order_and_the_rfb_bytes_go_on(
    tmp_path: Path, master_key: bytes
) -> None:
    pending = PendingRecords()
    pending.keep(RecordKind.RFB_SERVER_TO_CLIENT, 1, b"RFB 003.008\n", 12)
    pending.keep(RecordKind.CONTROL, 0, {"type": "pause"}, 256)
    pending.keep(RecordKind.RFB_CLIENT_TO_SERVER, 1, b"RFB 003.008\n", 12)
    pending.keep(RecordKind.CHAT, 0, {"from": "agent", "text": "Moment"}, 256)
    pending.keep(RecordKind.VIDEO_CONFIG, 1, {"codec": "vp8", "width": 1366, "height": 768}, 256)
    pending.keep(RecordKind.FILE_EVENT, 0, {"file": "a.pdf", "state": "done"}, 256)
    path = tmp_path / "s.sdrec"
    recorder = SessionRecorder.create(path, "BN-2026-4821-7730-8", master_key, lambda: START)
    run = asyncio.create_task(recorder.run())
    written = pending.write_to(recorder)
    assert not pending
    assert written.to_viewers == [(1, b"RFB 003.008\n")]
    assert written.to_applet == [(1, b"RFB 003.008\n")]
    await recorder.close()
    await asyncio.wait_for(run, 2)
    with RecordingReader(path, master_key) as reader:
        kinds = [r.kind for r in reader.records()]
    assert kinds == [
        RecordKind.RFB_SERVER_TO_CLIENT,
        RecordKind.CONTROL,
        RecordKind.RFB_CLIENT_TO_SERVER,
        RecordKind.CHAT,
        RecordKind.VIDEO_CONFIG,
        RecordKind.FILE_EVENT,
    ]


class Told:
    def __init__(self) -> None:
        self.rate: list[dict[str, Any]] = []
        self.quota: list[int] = []


def meter(limits: BudgetLimits, now: list[float], told: Told) -> RecordingMeter:
    return RecordingMeter(
        limits, lambda: now[0], on_rate=told.rate.append, on_quota=told.quota.append
    )


def test_the_meter_tells_the_rate_once_and_the_link_waits_out_the_debt() -> None:
    now, told = [0.0], Told()
    m = meter(BudgetLimits(quota_bytes=10_000, rate_bytes=100, burst_bytes=100), now, told)
    m.sync(100)
    assert m.wait() == 0.0 and told.rate == []
    m.sync(150)  # 50 bytes over: half a second
    assert m.wait() == pytest.approx(0.5)
    m.sync(300)
    assert told.rate == [{"bytes_per_second": 100, "burst_bytes": 100}]
    now[0] = 10.0
    assert m.wait() == 0.0


def test_the_meter_refuses_at_the_quota_and_says_so_once() -> None:
    now, told = [0.0], Told()
    m = meter(BudgetLimits(quota_bytes=1000, rate_bytes=10**9, burst_bytes=10**9), now, told)
    m.count(600)  # waited for the file
    m.file_opened(recorded_bytes=700, counted_before=600)
    assert m.admits()
    m.sync(1000)
    assert not m.admits() and not m.admits()
    assert told.quota == [1000] and m.quota_reached
    assert m.budget.used == 1000  # nothing counted twice
