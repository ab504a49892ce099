"""Damage-driven capture on a real Xvfb: one whole grab, then only what X says was drawn.

The viewer is the benchmark's independent RFB client; pixels are drawn with
python-xlib on a window of the display, and the viewer's framebuffer is compared with
the X server's own picture (GetImage).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from bench.rfb_client import COPY_RECT, TIGHT, RFBClient, jpeg_quality

from supportdesk.applet.screen.damage_capture import DamageCaptureLoop
from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.capture.screen_source import MssScreenSource

from .harness import serve_session

TICKS = 100  # USER_HZ: /proc/<pid>/task/<tid>/stat counts in these on Linux


class CountingSource(MssScreenSource):
    """mss, counting whole-monitor grabs and area grabs apart."""

    def __init__(self, display: str) -> None:
        super().__init__(display)
        self.whole = 0
        self.areas: list[tuple[int, int, int, int]] = []

    def grab(self, monitor: int = 0) -> Any:
        self.whole += 1
        return super().grab(monitor)

    def grab_area(self, monitor: int, area: tuple[int, int, int, int]) -> Any:
        self.areas.append(area)
        return super().grab_area(monitor, area)


def thread_cpu_seconds(native_id: int) -> float:
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Painter:
    """A window of the desktop that the test draws into."""

    def __init__(self, desk: Any) -> None:
        from Xlib import X

        self.d = desk.connect()
        screen = self.d.screen()
        self.win = screen.root.create_window(
            0, 0, desk.width, desk.height, 0, screen.root_depth, X.InputOutput,
            X.CopyFromParent, background_pixel=screen.black_pixel, override_redirect=True,
        )  # fmt: skip
        self.win.map()
        self.white = self.win.create_gc(foreground=screen.white_pixel)
        self.d.sync()

    def fill(self, x: int, y: int, w: int, h: int) -> None:
        self.win.fill_rectangle(self.white, x, y, w, h)
        self.d.sync()

    def close(self) -> None:
        self.d.close()


async def first_picture(port: int, *encodings: int) -> RFBClient:
    """A viewer of the session on ``port`` that has the whole first picture (or its start)."""
    client = await RFBClient.open("127.0.0.1", port)
    await client.set_encodings(*encodings)
    await client.request(incremental=False)
    await client.next_update(within=10)
    return client


async def viewer_update(client: RFBClient, within: float = 5) -> Any:
    await client.request()
    return await client.next_update(within=within)


async def test_only_drawn_areas_are_grabbed_and_reach_the_viewer_at_once(desktop: Any) -> None:
    painter = Painter(desktop)
    source = CountingSource(desktop.display)
    session = RFBSession(source, None)
    assert isinstance(session._capture, DamageCaptureLoop)
    session.start()
    try:
        async with serve_session(session) as served:
            client = await first_picture(served.port, TIGHT, COPY_RECT)
            assert session._capture.damage_driven
            assert source.whole == 1

            # An idle screen: the capture thread sleeps in select (well under 1 % of a core).
            request = asyncio.create_task(viewer_update(client))
            await asyncio.sleep(0.3)
            thread = session._capture._thread
            assert thread is not None and thread.native_id is not None
            cpu0, t0 = thread_cpu_seconds(thread.native_id), time.monotonic()
            await asyncio.sleep(3.0)
            idle = (thread_cpu_seconds(thread.native_id) - cpu0) / (time.monotonic() - t0)
            assert idle < 0.01, f"idle capture used {idle:.1%} of a core"
            assert not request.done()
            grabbed_before = len(source.areas)

            # A small change: grabbed as a small area, sent as that area alone.
            drawn_at = time.monotonic()
            painter.fill(100, 200, 20, 10)
            update = await request
            delay = time.monotonic() - drawn_at
            assert update.touches(100, 200, 20, 10)
            for x, y, w, h, _ in update.rects:
                assert w * h <= 64 * 64, (x, y, w, h)
            grabbed = source.areas[grabbed_before:]
            assert grabbed and all(w * h <= 64 * 64 for _, _, w, h in grabbed)
            assert source.whole == 1
            assert delay < 0.5, f"the change took {delay * 1000:.0f} ms"  # a loaded CI box
            screen = desktop.screenshot()[:, :, 2::-1]
            assert np.array_equal(client.fb, screen)
            await client.close()
    finally:
        painter.close()
        source.close()


async def test_changes_while_the_viewer_is_busy_all_arrive(desktop: Any) -> None:
    painter = Painter(desktop)
    source = CountingSource(desktop.display)
    session = RFBSession(source, None)
    session.start()
    try:
        async with serve_session(session) as served:
            client = await first_picture(served.port, TIGHT, COPY_RECT)
            # Drawn while nobody asked: damage waits in the X server, then comes in one go.
            for i in range(40):
                painter.fill(30 * i, 25 * (i % 30), 17, 9)
            await asyncio.sleep(0.2)
            deadline = time.monotonic() + 5
            screen = desktop.screenshot()[:, :, 2::-1]
            while not np.array_equal(client.fb, screen):
                assert time.monotonic() < deadline, "the viewer never caught up"
                await client.request()
                await client.next_update(within=5)
            assert source.whole == 1
            await client.close()
    finally:
        painter.close()
        source.close()


async def test_a_photo_goes_out_as_jpeg_and_is_exact_once_it_rests(desktop: Any) -> None:
    from Xlib import X

    painter = Painter(desktop)
    source = CountingSource(desktop.display)
    session = RFBSession(source, None)
    session.start()
    rng = np.random.default_rng(11)
    try:
        async with serve_session(session) as served:
            client = await first_picture(served.port, TIGHT, COPY_RECT, jpeg_quality(8))
            depth = painter.d.screen().root_depth
            for _ in range(3):  # a moving picture: three different frames
                noise = rng.integers(0, 256, (128, 256, 4), dtype=np.uint8)
                painter.win.put_image(
                    painter.white, 300, 300, 256, 128, X.ZPixmap, depth, 0, noise.tobytes()
                )
                painter.d.sync()
                await client.request()
                await client.next_update(within=5)
            assert client.tight_kinds.get("jpeg", 0) >= 3
            exact_kinds = client.tight_kinds.get("copy", 0)
            screen = desktop.screenshot()[:, :, 2::-1]
            assert not np.array_equal(client.fb, screen)  # JPEG: close, not exact
            deadline = time.monotonic() + 5
            while not np.array_equal(client.fb, screen):  # the refresh after 0.25 s of rest
                assert time.monotonic() < deadline, "no lossless refresh"
                await client.request()
                with contextlib.suppress(TimeoutError):
                    await client.next_update(within=1)
            assert client.tight_kinds.get("copy", 0) > exact_kinds  # sent without JPEG
            await client.close()
    finally:
        painter.close()
        source.close()


def test_a_session_that_masks_gets_the_damage_driven_loop_too() -> None:
    # Its masks are painted on every area grab (test_damage_capture_masks.py); only a
    # source without a damage watch falls back to polling.
    from supportdesk.applet.screen.capture_loop import CaptureLoop
    from supportdesk.applet.screen.damage_capture import open_capture_loop
    from supportdesk.capture.mask_sources import PrivacyScreen
    from supportdesk.capture.screen_source import MemoryScreenSource, Monitor

    class AreaSource:
        def monitors(self) -> list[Monitor]:
            return [Monitor(0, 0, 0, 64, 48, name="all")]

        def damage_watch(self) -> None:
            return None

        def grab_area(self, monitor: int, area: tuple[int, int, int, int]) -> Any:
            raise AssertionError("not grabbed here")

    plain = open_capture_loop(AreaSource())  # type: ignore[arg-type]
    masked = open_capture_loop(AreaSource(), masks=PrivacyScreen())  # type: ignore[arg-type]
    assert isinstance(plain, DamageCaptureLoop)
    assert isinstance(masked, DamageCaptureLoop)
    polled = open_capture_loop(MemoryScreenSource(((0, 0, 64, 48),)), masks=PrivacyScreen())
    assert type(polled) is CaptureLoop


async def test_a_viewer_that_stops_asking_stops_the_grabbing(desktop: Any) -> None:
    # An update carries part of a large change (the update budget); one more frame is
    # grabbed during the round trip, and no more until the viewer asks again.
    painter = Painter(desktop)
    black = painter.win.create_gc(foreground=painter.d.screen().black_pixel)
    source = CountingSource(desktop.display)
    session = RFBSession(source, None)
    session.start()
    drawing = True

    async def draw() -> None:
        i = 0
        while drawing:
            gc = painter.white if i % 2 else black
            painter.win.fill_rectangle(gc, 0, 100, 800, 400)  # 320,000 pixels a frame
            painter.d.sync()
            i += 1
            await asyncio.sleep(0.02)

    try:
        async with serve_session(session) as served:
            client = await first_picture(served.port, TIGHT, COPY_RECT)
            artist = asyncio.create_task(draw())
            await asyncio.sleep(0.2)
            await client.request()
            update = await client.next_update(within=5)
            assert sum(w * h for _, _, w, h, _ in update.rects) < 320_000  # a part of it
            await asyncio.sleep(0.5)
            grabs = session.grabs
            await asyncio.sleep(1.0)
            assert session.grabs == grabs, "grabbing went on while the viewer did not ask"
            await client.request()  # asking again gets the rest at once
            await client.next_update(within=5)
            drawing = False
            await artist
            await client.close()
    finally:
        drawing = False
        painter.close()
        source.close()


@contextlib.contextmanager
def quiet_loop(desktop: Any) -> Iterator[tuple[DamageCaptureLoop, list[list[Any]]]]:
    """A damage-driven loop past its first whole grab, not wanting frames, and the ops
    of every delta it offers after that (the consumer takes each as it is offered)."""
    taken: list[list[Any]] = []
    loop = DamageCaptureLoop(MssScreenSource(desktop.display), 0, polling_max_fps=30)

    def on_delta() -> None:
        delta = loop.take()
        if delta is not None and not delta.full:
            taken.append(list(delta.ops))

    loop._on_delta = on_delta
    try:
        loop.start()
        loop.want(True)
        deadline = time.monotonic() + 5
        while loop.grabs == 0:  # the first, whole grab
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.3)  # the painter's window, mapped: drawn and taken
        loop.want(False)
        time.sleep(0.1)
        taken.clear()
        yield loop, taken
    finally:
        loop.stop()


def wait_for(taken: list[list[Any]], ops: int = 1) -> None:
    deadline = time.monotonic() + 5
    while sum(len(o) for o in taken) < ops:
        assert time.monotonic() < deadline, f"changes never arrived: {taken}"
        time.sleep(0.01)


def test_the_small_pieces_of_a_wake_are_handed_over_before_the_large_ones(desktop: Any) -> None:
    painter = Painter(desktop)
    try:
        with quiet_loop(desktop) as (loop, taken):
            # Both in one flush, so that one wake finds both.
            painter.win.fill_rectangle(painter.white, 600, 400, 400, 300)  # large: 120,000 px
            painter.win.fill_rectangle(painter.white, 8, 8, 100, 12)  # small: a clock
            painter.d.sync()
            loop.want(True)
            wait_for(taken, 2)
    finally:
        painter.close()
    first, *rest = taken
    assert all(op.x < 200 and op.y < 64 for op in first)  # the clock's piece alone
    assert rest and all(op.x >= 576 and op.y >= 384 for ops in rest for op in ops)


def test_small_changes_are_taken_alone_while_large_ones_are_held_back(desktop: Any) -> None:
    painter = Painter(desktop)
    try:
        with quiet_loop(desktop) as (loop, taken):
            assert loop.takes_small_alone
            painter.win.fill_rectangle(painter.white, 600, 400, 400, 300)  # large: a video frame
            painter.win.fill_rectangle(painter.white, 8, 8, 100, 12)  # small: a clock
            painter.d.sync()
            loop.want(True, large=False)  # the frame clock holds large frames back
            wait_for(taken)
            painter.fill(8, 40, 100, 12)  # the clock again, while the large area still waits
            time.sleep(0.5)
            small = [op for ops in taken for op in ops]
            assert small and all(op.x < 200 and op.y < 64 for op in small)
            assert any(op.y >= 32 for op in small)  # the second small change came too
            taken.clear()
            loop.want(True)  # the clock's tick: the large area goes now
            wait_for(taken)
    finally:
        painter.close()
    large = [op for ops in taken for op in ops]
    assert all(op.x >= 576 and op.y >= 384 for op in large)
    assert sum(op.area for op in large) >= 400 * 300


def test_many_small_pieces_drawn_at_once_are_held_back_as_a_large_change(desktop: Any) -> None:
    # A picture put in bands of 64 rows, a list rewritten line by line: each piece is
    # small, together they are a large frame, and must wait for the large frame's tick.
    painter = Painter(desktop)
    try:
        with quiet_loop(desktop) as (loop, taken):
            for i in range(10):  # ten bands of 8,192 pixels, apart: 81,920 in all
                painter.win.fill_rectangle(painter.white, 0, 96 * i + 16, 100, 40)
            painter.d.sync()
            loop.want(True, large=False)
            time.sleep(0.5)
            assert not taken, "a large change went out as small pieces"
            loop.want(True)
            wait_for(taken)
    finally:
        painter.close()
    assert sum(op.area for ops in taken for op in ops) >= 10 * 100 * 40


async def test_a_small_change_is_not_held_back_by_a_large_frame(desktop: Any) -> None:
    # After a large frame the next large one waits for the large frame rate's 5 s; a
    # small change drawn meanwhile goes out before it, alone (halfway, after 2.5 s).
    painter = Painter(desktop)
    source = CountingSource(desktop.display)
    session = RFBSession(source, None, max_fps=100, frame_rate=50, large_frame_rate=0.2)
    session.start()

    async def until_whole(client: RFBClient) -> None:
        deadline = time.monotonic() + 15
        while not np.array_equal(client.fb, desktop.screenshot()[:, :, 2::-1]):
            assert time.monotonic() < deadline, "the picture never became whole"
            # What the update budget left over; a large change may wait for the large
            # frame rate's tick, up to 5 s after the last large frame, and a loaded
            # machine adds to that.
            await viewer_update(client, within=10)

    try:
        async with serve_session(session) as served:
            client = await first_picture(served.port, TIGHT, COPY_RECT)
            await until_whole(client)
            painter.fill(0, 200, 500, 300)  # a large frame: the next large one waits 5 s
            await until_whole(client)
            painter.win.fill_rectangle(painter.white, 600, 400, 400, 300)
            painter.win.fill_rectangle(painter.white, 8, 8, 100, 12)
            painter.d.sync()
            start = time.monotonic()
            update = await viewer_update(client)  # halfway to the large frame's tick
            # The large frame was taken less than a second ago (until_whole): held back with
            # the large one, the small change would come at its tick, 4-5 s from now.
            assert time.monotonic() - start < 3.5, "the small change waited for the large"
            assert update.touches(8, 8, 100, 12)
            assert not update.touches(600, 400, 400, 300)
            update = await viewer_update(client, within=10)
            assert update.touches(600, 400, 400, 300)  # at the large frame's tick
            await until_whole(client)
            await client.close()
    finally:
        painter.close()
        source.close()
