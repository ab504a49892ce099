"""A session's recording survives its node's death: the node that takes the session over
constructs a new SessionRecording and calls start(); the dead node's segment is closed at
its last good chunk (a torn tail cut off) and audited as interrupted, the recording
continues in segment 2 chained to it, ``recordings verify`` accepts the whole and names
the segment when a link is forged or a segment is missing, and the player plays both.
Real database (SQLite and PostgreSQL), real files."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.config import Settings
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.i18n import translations
from supportdesk.recording import RecordingReader
from supportdesk.recording.format import FILE_HEADER_SIZE_V1, ChunkHeader
from supportdesk.recording.segment_export import GAP_GREY
from supportdesk.recording.timeline import MarkKind
from supportdesk.recording.writer import RecordingWriter
from supportdesk.recording_archive import Check, RecordingArchive
from supportdesk.rfb import Rect, RFBServerConnection
from supportdesk.server.recordings.page import _read_marks
from supportdesk.server.recordings.place import RecordingPlace
from supportdesk.server.recordings.player_socket import PlayerSession
from supportdesk.server.recordings.seek_points import SeekPointRule
from supportdesk.server.recordings.session_recording import SessionRecording
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.models import RecordingRow
from supportdesk.store.recordings import Recordings
from tests.recording.session import NOVNC_FORMAT, TIGHT_NOVNC, desktop
from tests.rfb import viewer as v

NUMBER = "BN-2026-1313-1313-3"
KEY = secrets.token_bytes(32)
W, H = 160, 96


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Remote:
    async def apply(self, number: str, event: object) -> None:
        return None


@dataclass
class FakeRelay:
    """What SessionRecording needs of a relay: one per node."""

    number: str = NUMBER
    remote: Any = None

    def __post_init__(self) -> None:
        self.remote = Remote()

    def state_message(self) -> dict[str, Any]:
        return {"type": "state", "state": "active", "capabilities": ["view"]}

    def has_viewer(self, channel: int) -> bool:
        return True

    def to_viewer(self, channel: int, payload: bytes) -> None:
        return None

    async def drop_viewer(self, channel: int, reason: str) -> None:
        return None

    async def send_applet_bytes(self, data: bytes) -> None:
        return None

    async def to_applet(self, message: dict[str, Any]) -> None:
        return None


@dataclass
class World:
    place: RecordingPlace
    sessions: async_sessionmaker[AsyncSession]
    audit: AuditLog
    clock: Clock
    archive: RecordingArchive


@pytest.fixture
async def world(settings: Settings, tmp_path: Path) -> AsyncIterator[World]:
    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    audit = AuditLog(sessions)
    clock = Clock()
    directory = tmp_path / "recordings"
    place = RecordingPlace(directory, KEY, audit, clock, keyframe_interval=3600)
    archive = RecordingArchive(sessions, audit, directory, lambda: KEY, timedelta(days=90))
    yield World(place, sessions, audit, clock, archive)
    await engine.dispose()


async def screen_session(recording: SessionRecording, clock: Clock, seconds: int) -> None:
    """A viewer on channel 1 watching a changing screen for ``seconds``, through the tee."""
    conn = RFBServerConnection(W, H, "customer-pc")
    await recording.channel_opened(1)

    def s2c() -> None:
        data = conn.data_to_send()
        if data:
            recording.take_applet_data(1, data)

    async def c2s(data: bytes) -> None:
        assert await recording.viewer_data(1, data)
        conn.receive_data(data)
        conn.events_received()

    s2c()
    for answer in (b"RFB 003.008\n", b"\x01", b"\x01"):
        await c2s(answer)
        s2c()
    await c2s(v.set_pixel_format(NOVNC_FORMAT) + v.set_encodings(*TIGHT_NOVNC))
    await c2s(v.update_request(False, 0, 0, W, H))
    for step in range(seconds * 2):
        conn.add_damage([Rect(0, 0, W, H)])
        if conn.update_ready:
            conn.send_framebuffer_update(desktop(W, H, step))
            s2c()
            await c2s(v.update_request(True, 0, 0, W, H))
        recording.chat({"from": "agent", "text": f"line {step}"})
        clock.advance(0.5)


def writer_of(recording: SessionRecording) -> RecordingWriter:
    assert recording.recorder is not None
    return recording.recorder.writer


async def die(recording: SessionRecording) -> tuple[str, int]:
    """SIGKILL of the node: what was ticked is on disk, then a half-written chunk."""
    writer = writer_of(recording)
    await asyncio.to_thread(writer.tick)
    for task in [*recording._tasks, recording._run]:
        if task is not None:
            task.cancel()
    size = writer.path.stat().st_size
    torn = ChunkHeader(writer._sequence, 0, 0, 2, 700, 400, bytes(32)).pack() + b"\x17" * 9
    writer.abort()  # (the process is gone: nothing more is written)
    assert writer.path.stat().st_size == size
    await asyncio.to_thread(append, writer.path, torn)
    return writer.chain_hash, size


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as file:
        file.write(data)


async def taken_over(world: World) -> tuple[str, int]:
    """Node A records, dies mid-chunk; node B takes the session over and finishes it."""
    first = SessionRecording(FakeRelay(), world.place)
    await first.start()
    assert first.segment == 1
    await screen_session(first, world.clock, 2)
    chain_end, good_size = await die(first)

    world.clock.advance(3)  # the lease lapses, another node takes the session
    second = SessionRecording(FakeRelay(), world.place)
    await second.start()
    assert second.segment == 2 and second.path is not None
    assert second.path.name == f"{NUMBER}.seg2.sdrec"
    await screen_session(second, world.clock, 2)
    await second.finish()
    return chain_end, good_size


async def test_a_takeover_continues_in_a_chained_segment_and_verify_accepts_the_whole(
    world: World,
) -> None:
    chain_end, good_size = await taken_over(world)

    async with world.sessions() as db:
        entry = await Recordings(db).require(NUMBER)
    one, two = entry.segments
    assert (one.segment, one.interrupted, one.final_hash, one.size) == (
        1,
        True,
        chain_end,
        good_size,
    )
    assert one.ended_at is not None
    assert (two.segment, two.interrupted, two.previous_hash) == (2, False, chain_end)
    assert entry.ended_at is not None and entry.final_hash == two.final_hash
    assert (world.place.directory / one.file_name).stat().st_size == good_size  # tail cut

    events = {e.event_type: e.data for e in await world.audit.for_subject(NUMBER)}
    assert events["recording_interrupted"]["segment"] == 1
    assert events["recording_interrupted"]["final_hash"] == chain_end
    assert events["recording_interrupted"]["torn_bytes"] > 0
    with RecordingReader(world.place.directory / two.file_name, KEY) as reader:
        assert reader.segment == 2 and reader.previous_hash.hex() == chain_end

    outcome = await world.archive.verify(NUMBER, "cli:test", world.clock())
    assert outcome.check is Check.INTACT, outcome.detail
    assert outcome.detail.startswith("2 segments, linked")
    verified = [e for e in await world.audit.for_subject(NUMBER)]
    assert verified[-1].event_type == "recording_verified"
    assert verified[-1].data["segments"] == 2


async def test_a_forged_header_link_fails_at_chunk_zero_of_that_segment(world: World) -> None:
    await taken_over(world)
    path = world.place.directory / f"{NUMBER}.seg2.sdrec"
    data = bytearray(path.read_bytes())
    data[FILE_HEADER_SIZE_V1 + 4] ^= 0xFF  # the previous segment's hash in the header
    path.write_bytes(bytes(data))
    outcome = await world.archive.check(NUMBER)
    assert outcome.check is Check.DAMAGED and outcome.segment == 2
    assert "segment 2: hash chain broken at chunk 0" in outcome.detail


async def test_a_segment_that_does_not_continue_the_last_fails(world: World) -> None:
    await taken_over(world)
    # A well-formed segment 2 (made with the key) that links to something else.
    forged = world.place.directory / "forged.sdrec"
    wrong = bytes(range(32))
    writer = RecordingWriter.create(forged, NUMBER, KEY, world.clock(), segment=2,
                                    previous_hash=wrong)  # fmt: skip
    final = writer.close(world.clock())
    async with world.sessions.begin() as db:
        await db.execute(
            update(RecordingRow)
            .where(RecordingRow.consultation_number == NUMBER, RecordingRow.segment == 2)
            .values(file_name=forged.name, previous_hash=wrong.hex(), final_hash=final)
        )
    # The forger also audited its hash: only the link gives it away.
    await world.audit.record(
        AuditRecord(world.clock(), "recording_finished", "system", NUMBER,
                    {"final_hash": final, "segment": 2})
    )  # fmt: skip
    outcome = await world.archive.check(NUMBER)
    assert outcome.check is Check.DAMAGED and outcome.segment == 2
    assert "segment 2 does not continue segment 1" in outcome.detail


async def test_a_missing_middle_segment_fails(world: World) -> None:
    await taken_over(world)
    # A third node took over later; then segment 2 vanished, file and row.
    third = SessionRecording(FakeRelay(), world.place)
    world.clock.advance(5)
    await third.start()
    assert third.segment == 3
    await third.finish()
    async with world.sessions.begin() as db:
        row = await db.scalar(
            RecordingRow.__table__.select().where(RecordingRow.segment == 2)  # type: ignore[attr-defined]
        )
        assert row is not None
        await db.execute(RecordingRow.__table__.delete().where(RecordingRow.segment == 2))  # type: ignore[attr-defined]
    outcome = await world.archive.check(NUMBER)
    assert outcome.check is Check.DAMAGED and outcome.segment == 2
    assert "segment 2 is missing" in outcome.detail
    # A missing file (the row still there) is named too.
    (world.place.directory / f"{NUMBER}.seg3.sdrec").unlink()
    outcome = await world.archive.check(NUMBER)
    assert outcome.check is Check.MISSING and outcome.segment == 3


async def test_hold_and_purge_cover_every_segment(world: World) -> None:
    await taken_over(world)
    files = sorted(world.place.directory.glob("*.sdrec"))
    assert len(files) == 2
    now = world.clock()
    await world.archive.set_hold(NUMBER, True, "cli:test", now)
    later = now + timedelta(days=200)
    kept = await world.archive.purge("system:retention", later)
    assert [o.verdict.name for o in kept] == ["KEEP_LEGAL_HOLD"]
    await world.archive.set_hold(NUMBER, False, "cli:test", now)
    purged = await world.archive.purge("system:retention", later)
    assert [(o.verdict.name, o.destroyed, o.error) for o in purged] == [("PURGE", True, None)]
    assert not any(path.exists() for path in files)
    async with world.sessions() as db:
        entry = await Recordings(db).require(NUMBER)
    assert all(s.purged_at is not None for s in entry.segments)
    assert (await world.archive.check(NUMBER)).check is Check.PURGED


class FakeSocket:
    """The player's WebSocket: what is sent, and the page's commands."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any] | bytes] = []
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.ended = asyncio.Event()

    async def send_text(self, text: str) -> None:
        message = json.loads(text)
        self.sent.append(message)
        if message.get("type") == "end":
            self.ended.set()

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        return None

    def command(self, **message: Any) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})


async def test_the_player_plays_both_segments_in_order(world: World) -> None:
    await taken_over(world)
    entry = await world.archive.readable(NUMBER)
    recording = await asyncio.to_thread(world.archive.open_recording, entry)
    socket = FakeSocket()
    socket.command(type="speed", speed=16)
    try:
        player = PlayerSession(socket, recording, 1)  # type: ignore[arg-type]
        task = asyncio.create_task(player.run(0))
        await asyncio.wait_for(socket.ended.wait(), 20)
        socket.inbox.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(task, 5)
    finally:
        recording.close()
    starts = [m for m in socket.sent if isinstance(m, dict) and m["type"] == "start"]
    assert [m["segment"] for m in starts] == [1, 2]
    gap_start, gap_end = recording.gaps[0]
    assert starts[1]["at_us"] >= gap_end > gap_start
    # Each segment's screen opens with its own RFB handshake and shows updates.
    hellos = [
        i for i, m in enumerate(socket.sent) if isinstance(m, bytes) and m.startswith(b"RFB 003")
    ]
    assert len(hellos) == 2
    assert hellos[0] < socket.sent.index(starts[1]) < hellos[1]
    updates = [m for m in socket.sent if isinstance(m, bytes) and m[:1] == b"\x00"]
    assert len(updates) >= 4
    end = socket.sent[-1] if isinstance(socket.sent[-1], dict) else {}
    assert end.get("type") in ("end", "state") and end.get("duration_us") == recording.duration_us


async def test_export_renders_both_segments_with_the_gap_in_grey(
    world: World, tmp_path: Path
) -> None:
    await taken_over(world)
    out = tmp_path / "both.mp4"
    result = await world.archive.export(NUMBER, out, "cli:test", world.clock())
    entry = await world.archive.readable(NUMBER)
    with world.archive.open_recording(entry) as recording:
        gaps, duration = recording.gaps, recording.duration_us
    assert result.gaps == tuple(gaps) and len(gaps) == 1
    assert result.method == "rendered" and result.duration_us == duration
    assert result.frames == duration * 5 // 1_000_000 + 1
    with av.open(str(out)) as container:
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(pictures) == result.frames
    gap_start, gap_end = gaps[0]
    inside = (gap_start + gap_end) // 2 * 5 // 1_000_000
    assert abs(float(pictures[inside].mean()) - GAP_GREY) < 3  # the gap is marked
    assert abs(float(pictures[2].mean()) - GAP_GREY) > 10  # a screen before it
    assert abs(float(pictures[-1].mean()) - GAP_GREY) > 10  # and after it


async def test_the_players_timeline_marks_the_gap_in_the_agents_language(world: World) -> None:
    await taken_over(world)
    entry = await world.archive.readable(NUMBER)
    german = translations("de").gettext
    marks, _channels, duration = await asyncio.to_thread(_read_marks, world.archive, entry, german)
    gap = [m for m in marks if m.who == "system"]
    assert [m.kind for m in gap] == [MarkKind.PAUSE, MarkKind.RESUME]
    assert gap[0].text == (
        "Aufzeichnung unterbrochen: Die Sitzung wurde auf einem anderen Server fortgesetzt"
    )
    assert gap[1].text == "Aufzeichnung geht weiter (Teil 2)"
    assert 0 < gap[0].at_us < gap[1].at_us < duration
    assert marks == sorted(marks, key=lambda m: m.at_us)


class AskedRelay(FakeRelay):
    """A relay that keeps what the recording asks of the customer's side."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[dict[str, Any]] = []

    async def to_applet(self, message: dict[str, Any]) -> None:
        self.asked.append(message)


async def test_a_taken_over_browser_share_gets_seek_points_by_its_chunks(world: World) -> None:
    """The node that takes a browser share over never saw its consent: the seek points
    start from the first video chunk its recording keeps."""
    place = dataclasses.replace(
        world.place, seek_points=SeekPointRule(max_chunks=10), seek_tick=0.02
    )
    relay = AskedRelay()
    recording = SessionRecording(relay, place)
    await recording.start()
    assert recording.video_config({"codec": "avc1.640028", "width": 64, "height": 48})
    for i in range(10):
        flags = 1 if i == 0 else 0
        payload = bytes([flags]) + (i * 40_000).to_bytes(8, "big") + b"\x00\x00\x00\x01\x65"
        recording.take_video(payload)
        await asyncio.sleep(0.03)
    assert relay.asked == []  # a key chunk and 9 deltas: not yet
    recording.take_video(b"\x00" + (400_000).to_bytes(8, "big") + b"\x00\x00\x00\x01\x65")
    await asyncio.sleep(0.1)
    assert relay.asked == [{"type": "keyframe", "channel": 1}]
    await recording.finish()
