"""RFBSession over loopback TCP, in-memory desktop: consent gate, updates, input gate, stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import pytest
from bench.rfb_client import COPY_RECT, RAW, TIGHT, RFBClient

from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.applet.screen.streams import ByteReader, ByteWriter
from supportdesk.capture.clipboard import MemoryClipboard
from supportdesk.capture.screen_source import MemoryScreenSource

from .harness import Served, serve_session

W, H = 320, 240


@dataclass
class RecordingSink:
    """An InputSink that records what reaches it; drops events while disabled, like XTest."""

    enabled: bool = False
    events: list[tuple[object, ...]] = field(default_factory=list)
    closed: bool = False

    def key_event(self, keysym: int, down: bool) -> bool:
        if not self.enabled:
            return False
        self.events.append(("key", keysym, down))
        return True

    def pointer_event(self, x: int, y: int, button_mask: int) -> bool:
        if not self.enabled:
            return False
        self.events.append(("pointer", x, y, button_mask))
        return True

    def release_all(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def desktop_rgb(source: MemoryScreenSource) -> np.ndarray:
    return source.desktop[:, :, 2::-1]


def paint_text_rows(source: MemoryScreenSource) -> None:
    """Distinct, non-flat rows (like lines of text) so scrolling can be detected."""
    rng = np.random.default_rng(7)
    rows = rng.integers(0, 256, size=(H, 1, 4), dtype=np.uint8)
    stripes = rng.integers(0, 2, size=(H, W, 1), dtype=np.uint8) * 255
    source.desktop[:] = rows ^ stripes


@pytest.fixture
def source() -> MemoryScreenSource:
    src = MemoryScreenSource(((0, 0, W, H),))
    src.fill((40, 80, 120, 0))
    return src


@pytest.fixture
async def served(source: MemoryScreenSource) -> AsyncIterator[tuple[RFBSession, Served]]:
    sink = RecordingSink()
    session = RFBSession(source, sink, monitor=1, max_fps=60)
    async with serve_session(session) as srv:
        yield session, srv


async def viewer(port: int, *encodings: int) -> RFBClient:
    client = await RFBClient.open("127.0.0.1", port)
    await client.set_encodings(*(encodings or (RAW,)))
    return client


async def test_nothing_is_captured_before_start(
    served: tuple[RFBSession, Served], source: MemoryScreenSource
) -> None:
    session, srv = served
    client = await viewer(srv.port)
    assert (client.width, client.height) == (W, H)
    await client.request(incremental=False)
    with pytest.raises(TimeoutError):
        await client.next_update(within=0.3)
    assert source.grabs == 0 and not session.capturing
    session.start()
    update = await client.next_update(within=2)
    assert update.rects and np.array_equal(client.fb, desktop_rgb(source))
    await client.close()


async def test_incremental_update_carries_only_the_change(
    served: tuple[RFBSession, Served], source: MemoryScreenSource
) -> None:
    session, srv = served
    session.start()
    client = await viewer(srv.port, TIGHT, RAW)
    await client.request(incremental=False)
    await client.next_update(within=2)
    source.fill((0, 0, 255, 0), (100, 100, 10, 10))
    await client.request()
    update = await client.next_update(within=2)
    assert all(w * h <= 128 * 128 for _, _, w, h, _ in update.rects)
    assert np.array_equal(client.fb, desktop_rgb(source))
    await client.close()


async def test_scroll_goes_out_as_copyrect(
    served: tuple[RFBSession, Served], source: MemoryScreenSource
) -> None:
    session, srv = served
    paint_text_rows(source)
    session.start()
    client = await viewer(srv.port, COPY_RECT, RAW)
    await client.request(incremental=False)
    await client.next_update(within=2)
    source.desktop[:-16] = source.desktop[16:].copy()
    source.desktop[-16:] = 200
    await client.request()
    update = await client.next_update(within=2)
    assert COPY_RECT in {enc for *_, enc in update.rects}
    assert np.array_equal(client.fb, desktop_rgb(source))
    await client.close()


async def test_input_reaches_the_sink_only_while_control_is_allowed(
    served: tuple[RFBSession, Served], source: MemoryScreenSource
) -> None:
    session, srv = served
    sink = session._sink
    assert isinstance(sink, RecordingSink)
    session.start()
    client = await viewer(srv.port)

    async def roundtrip() -> None:
        # An update request after the input: once its answer is here, the input was handled.
        source.fill((int(time.monotonic() * 1000) % 256, 1, 2, 0), (0, 0, 8, 8))
        await client.request(incremental=False)
        await client.next_update(within=2)

    await client.key(0x61, True)
    await client.pointer(5, 6, 1)
    await roundtrip()
    assert sink.events == [] and not sink.enabled

    session.set_control(True)
    assert sink.enabled
    await client.key(0x62, True)
    await client.pointer(7, 8, 0)
    await roundtrip()
    assert sink.events == [("key", 0x62, True), ("pointer", 7, 8, 0)]

    session.pause()
    assert not sink.enabled
    await client.key(0x63, True)
    await client.request(incremental=False)  # paused: the picture is frozen, input dropped
    await asyncio.sleep(0.2)
    assert sink.events[-1] == ("pointer", 7, 8, 0)
    session.resume()
    assert sink.enabled
    await client.next_update(within=2)

    session.set_control(False)
    await client.key(0x64, True)
    await roundtrip()
    assert len(sink.events) == 2
    assert session.stats.input_dropped >= 3
    await client.close()


async def test_the_pointer_lands_on_the_shared_monitor_of_several() -> None:
    # Two screens side by side, the second one lower; the agent sees only the second.
    source = MemoryScreenSource(((0, 0, W, H), (W, 40, W, H)))
    sink = RecordingSink()
    session = RFBSession(source, sink, monitor=2, control=True, max_fps=60)
    async with serve_session(session) as srv:
        session.start()
        client = await viewer(srv.port)
        await client.pointer(7, 8, 0)
        source.fill((9, 9, 9, 0), (0, 0, 8, 8))
        await client.request(incremental=False)
        await client.next_update(within=2)
        await client.close()
    # Relative to all screens' top-left corner, where every sink places the pointer.
    assert sink.events == [("pointer", W + 7, 40 + 8, 0)]


async def test_clipboard_crosses_only_while_control_is_allowed(source: MemoryScreenSource) -> None:
    board = MemoryClipboard()
    session = RFBSession(source, RecordingSink(), monitor=1, control=False, clipboard=board)

    async def roundtrip() -> list[tuple[object, ...]]:
        await client.request(incremental=False)
        await client.next_update(within=2)
        cuts = [m for m in client.messages if m[0] == "cut"]
        client.messages.clear()
        return cuts

    async with serve_session(session) as srv:
        session.start()
        client = await viewer(srv.port)
        await client.cut_text("ohne Kontrolle")
        board.copy("geheim")
        assert await roundtrip() == []
        assert board.text == "geheim"  # the agent's text never arrived
        assert not board.listened  # the customer's copies are not even read

        session.set_control(True)
        assert board.listened
        await client.cut_text("Grüße")
        board.copy("Köln")
        assert await roundtrip() == [("cut", "Köln")]
        assert board.text == "Grüße"

        session.pause()
        assert not board.listened
        await client.cut_text("pausiert")
        board.copy("auch geheim")
        assert await roundtrip() == []
        assert board.text == "auch geheim"
        session.resume()
        assert board.listened
        await client.close()
    assert not board.listened  # the session ended
    assert (session.stats.clipboard_to_customer, session.stats.clipboard_to_agent) == (1, 1)


async def test_stop_halts_capture_within_a_second_and_closes_the_stream(
    served: tuple[RFBSession, Served], source: MemoryScreenSource
) -> None:
    session, srv = served
    session.start()
    client = await viewer(srv.port)
    await client.request(incremental=False)
    await client.next_update(within=2)
    for i in range(3):  # keep the screen busy, so capture runs at full rate
        source.fill((i * 50, 0, 0, 0))
        await client.request()
        await client.next_update(within=2)
    await client.request()
    began = time.monotonic()
    await asyncio.to_thread(session.stop)
    assert not session.capturing
    assert time.monotonic() - began < 1.0
    grabs = source.grabs
    source.fill((9, 9, 9, 0))
    await asyncio.wait_for(srv.done.wait(), 1.0)
    await asyncio.sleep(0.2)
    assert source.grabs == grabs
    with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
        while True:  # whatever was in flight may still arrive; then the stream ends
            await client.next_update(within=1)
    with pytest.raises(RuntimeError):
        session.start()


async def test_protocol_violation_ends_the_connection(
    served: tuple[RFBSession, Served],
) -> None:
    _, srv = served
    client = await viewer(srv.port)
    await client.send_raw(b"\x63garbage")
    await asyncio.wait_for(srv.done.wait(), 2.0)
    await client.close()


class StuckWriter:
    """A transport that never drains after the first write: the session must not pile up."""

    def __init__(self) -> None:
        self.writes: list[int] = []
        self._never: asyncio.Future[None] | None = None

    async def write(self, data: bytes) -> None:
        self.writes.append(len(data))
        if len(self.writes) > 2:
            self._never = asyncio.get_running_loop().create_future()
            await self._never

    async def close(self) -> None:
        pass


class ScriptedReader:
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    async def read(self) -> bytes:
        if self._chunks:
            return self._chunks.pop(0)
        await asyncio.sleep(3600)
        return b""


async def test_a_stalled_transport_stops_capture_instead_of_buffering(
    source: MemoryScreenSource,
) -> None:
    session = RFBSession(source, monitor=1, max_fps=100)
    hello = b"RFB 003.008\n" + b"\x01" + b"\x01"
    requests = b"".join(bytes([3, 1, 0, 0, 0, 0, 1, 64, 0, 240]) for _ in range(50))
    reader: ByteReader = ScriptedReader([hello, bytes([3, 0, 0, 0, 0, 0, 1, 64, 0, 240]), requests])
    writer: ByteWriter = StuckWriter()
    session.start()
    task = asyncio.create_task(session.serve(reader, writer))
    for i in range(20):
        source.fill((i, i, i, 0))
        await asyncio.sleep(0.02)
    grabs = source.grabs
    await asyncio.sleep(0.3)
    assert source.grabs - grabs <= 1  # no demand while the write hangs
    assert session.stats.updates <= 1
    session.stop()
    await asyncio.wait_for(task, 2)


async def test_the_frame_clock_holds_a_change_that_follows_a_frame(
    source: MemoryScreenSource,
) -> None:
    # Frame rate 0.5: a frame every 2 s at most; the first after a quiet spell at once.
    session = RFBSession(source, monitor=1, max_fps=100, frame_rate=0.5)
    async with serve_session(session) as srv:
        session.start()
        client = await viewer(srv.port, TIGHT, RAW)
        await client.request(incremental=False)
        await client.next_update(within=2)  # the first frame
        source.fill((0, 0, 255, 0), (10, 10, 20, 20))
        await client.request()
        start = time.monotonic()
        await client.next_update(within=5)
        assert time.monotonic() - start >= 1.0  # held for the rest of the interval
        assert np.array_equal(client.fb, desktop_rgb(source))
        await asyncio.sleep(2.5)  # quiet for longer than the interval
        source.fill((255, 0, 0, 0), (50, 50, 20, 20))
        await client.request()
        start = time.monotonic()
        await client.next_update(within=5)
        assert time.monotonic() - start < 1.0  # not held: taken at once
        assert np.array_equal(client.fb, desktop_rgb(source))
        await client.close()


async def test_a_busy_screen_goes_out_at_the_frame_rate_with_its_newest_picture(
    source: MemoryScreenSource,
) -> None:
    session = RFBSession(source, monitor=1, max_fps=100, frame_rate=5)
    async with serve_session(session) as srv:
        session.start()
        client = await viewer(srv.port, TIGHT, RAW)
        await client.request(incremental=False)
        await client.next_update(within=2)

        async def paint() -> None:
            for i in range(200):  # a change every 5 ms for a second
                source.fill((i, 255 - i, 0, 0), (0, 0, 64, 64))
                await asyncio.sleep(0.005)

        painter = asyncio.create_task(paint())
        updates = 0
        start = time.monotonic()
        while not painter.done():
            await client.request()
            await client.next_update(within=2)
            updates += 1
        elapsed = time.monotonic() - start
        assert updates <= 5 * elapsed + 2  # one frame per 200 ms, however fast it is asked
        await asyncio.sleep(0.3)
        await client.request(incremental=False)
        await client.next_update(within=2)  # after the painting stopped: the last picture
        assert np.array_equal(client.fb, desktop_rgb(source))
        await client.close()


async def test_after_a_large_frame_the_next_waits_the_large_frame_interval(
    source: MemoryScreenSource,
) -> None:
    # The first frame (the whole 320x240 monitor) is large: the next is held for the
    # large frame rate's 2 s; after a small frame the next waits only the frame rate's.
    session = RFBSession(source, monitor=1, max_fps=100, frame_rate=50, large_frame_rate=0.5)
    async with serve_session(session) as srv:
        session.start()
        client = await viewer(srv.port, TIGHT, RAW)
        await client.request(incremental=False)
        await client.next_update(within=2)
        source.fill((0, 0, 255, 0), (10, 10, 20, 20))
        await client.request()
        start = time.monotonic()
        await client.next_update(within=5)
        assert time.monotonic() - start >= 1.0  # held after the large frame
        source.fill((255, 0, 0, 0), (50, 50, 20, 20))
        await client.request()
        start = time.monotonic()
        await client.next_update(within=5)
        assert time.monotonic() - start < 1.0  # after a small frame: 20 ms at most
        assert np.array_equal(client.fb, desktop_rgb(source))
        await client.close()
