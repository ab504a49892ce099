"""Damage-driven capture with masks, on a real Xvfb: the program's sessions.

A "secret field" (a rectangle of one colour) is drawn with python-xlib and moved across
the screen while a test mask source follows it; every delta the loop hands on is checked
for the secret's colour, and a consumer-side copy built from the deltas alone must end as
the screen with the masks painted over it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from supportdesk.applet.screen.capture_loop import FrameDelta
from supportdesk.applet.screen.damage_capture import DamageCaptureLoop, open_capture_loop
from supportdesk.capture.mask import MaskArea, MaskKind, MaskPainter, monitor_rects
from supportdesk.capture.mask_sources import CombinedMasks, PrivacyScreen
from supportdesk.capture.screen_source import MssScreenSource
from supportdesk.rfb.geometry import Rect

from .test_damage_capture import Painter, thread_cpu_seconds

SECRET_PIXEL = 0xB14D07  # X pixel value (depth 24): R=0xB1 G=0x4D B=0x07
SECRET_BGR = (0x07, 0x4D, 0xB1)
LABEL = "Geschützte Eingabe"


class Field:
    """A mask source the test moves (the AT-SPI watcher's place); can be made to fail."""

    def __init__(self) -> None:
        self.now: Sequence[MaskArea] = ()
        self.broken = False

    def areas(self) -> Sequence[MaskArea]:
        if self.broken:
            raise RuntimeError("accessibility bus gone")
        return self.now


def secret_at(x: int, y: int) -> MaskArea:
    return MaskArea(Rect(x, y, 60, 14), MaskKind.SECRET_INPUT)


def secret_pixels(pixels: np.ndarray) -> int:
    return int((pixels[..., :3] == np.array(SECRET_BGR, np.uint8)).all(axis=-1).sum())


class Consumer:
    """Takes every delta as it is offered; keeps the picture they add up to."""

    def __init__(self) -> None:
        self.loop: DamageCaptureLoop | None = None
        self.picture: np.ndarray | None = None
        self.deltas = 0
        self.leaked = 0  # secret pixels in any delta handed on
        self._lock = threading.Lock()

    def on_delta(self) -> None:
        assert self.loop is not None
        delta = self.loop.take()
        if delta is not None:
            self._apply(delta)

    def _apply(self, delta: FrameDelta) -> None:
        with self._lock:
            self.deltas += 1
            if delta.full or self.picture is None:
                self.picture = np.array(delta.frame)
                self.leaked += secret_pixels(self.picture)
                return
            for area, pixels in delta.patches:
                self.leaked += secret_pixels(pixels)
                self.picture[area.y : area.bottom, area.x : area.right] = pixels

    def shows(self, expected: np.ndarray) -> bool:
        with self._lock:
            return self.picture is not None and np.array_equal(
                self.picture[..., :3], expected[..., :3]
            )


def masked_screen(desk: Any, areas: Sequence[MaskArea]) -> np.ndarray:
    shot = desk.screenshot()
    rects = monitor_rects(areas, (0, 0), (desk.width, desk.height))
    return MaskPainter(LABEL).paint(shot, rects)


def wait_for(consumer: Consumer, expected: Any, what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not consumer.shows(expected()):
        assert time.monotonic() < deadline, f"the deltas never showed {what}"
        time.sleep(0.05)


def open_loop(desk: Any, masks: Any) -> tuple[DamageCaptureLoop, Consumer, MssScreenSource]:
    source = MssScreenSource(desk.display)
    consumer = Consumer()
    loop = open_capture_loop(
        source, 0, masks=masks, painter=MaskPainter(LABEL), on_delta=consumer.on_delta
    )
    assert isinstance(loop, DamageCaptureLoop)
    consumer.loop = loop
    loop.start()
    loop.want(True)
    return loop, consumer, source


def test_a_moving_secret_never_leaves_the_loop_unmasked(desktop: Any) -> None:
    painter = Painter(desktop)
    secret_gc = painter.win.create_gc(foreground=SECRET_PIXEL)
    black_gc = painter.win.create_gc(foreground=painter.d.screen().black_pixel)
    field = Field()
    field.now = (secret_at(40, 300),)
    painter.win.fill_rectangle(secret_gc, 40, 300, 60, 14)
    painter.d.sync()
    loop, consumer, source = open_loop(desktop, CombinedMasks(field))
    try:
        wait_for(consumer, lambda: masked_screen(desktop, field.now), "the first picture")
        assert loop.damage_driven and loop.masked == {MaskKind.SECRET_INPUT}
        x = 40
        for step in range(30):  # the field slides right and down, typed into as it goes
            nx, ny = 40 + 37 * (step + 1), 300 + 5 * (step + 1)
            field.now = (secret_at(x, 300 + 5 * step), secret_at(nx, ny))  # both while moving
            painter.win.fill_rectangle(black_gc, x, 300 + 5 * step, 60, 14)
            painter.win.fill_rectangle(secret_gc, nx, ny, 60, 14)
            painter.d.sync()
            time.sleep(0.015)
            field.now = (secret_at(nx, ny),)
            time.sleep(0.015)
            x = nx
        wait_for(consumer, lambda: masked_screen(desktop, field.now), "the mask's last place")
        assert consumer.leaked == 0
        assert consumer.deltas > 10
        # Where the mask was, the black it hid was grabbed again (nothing drew there last).
        assert secret_pixels(desktop.screenshot()) == 60 * 14

        # The mask goes while the field stays: what it hid is grabbed again, no drawing.
        field.now = ()
        wait_for(consumer, desktop.screenshot, "the field once unmasked")
        assert consumer.picture is not None and secret_pixels(consumer.picture) == 60 * 14
        assert loop.masked == frozenset()
    finally:
        loop.stop()
        painter.close()
        source.close()


def test_a_failing_mask_source_blanks_the_picture_and_the_sichtschutz_needs_no_drawing(
    desktop: Any,
) -> None:
    painter = Painter(desktop)
    field, privacy = Field(), PrivacyScreen()
    loop, consumer, source = open_loop(desktop, CombinedMasks(privacy, field))
    everything = (MaskArea(Rect(0, 0, desktop.width, desktop.height), MaskKind.PRIVACY),)
    try:
        painter.fill(200, 200, 50, 50)
        wait_for(consumer, desktop.screenshot, "the screen")
        # Nothing is drawn after these switches: the loop looks at its masks every frame.
        privacy.toggle()
        wait_for(consumer, lambda: masked_screen(desktop, everything), "the Sichtschutz")
        assert loop.masked == {MaskKind.PRIVACY}
        privacy.toggle()
        wait_for(consumer, desktop.screenshot, "the screen after the Sichtschutz")
        field.broken = True  # fail closed: the whole picture, not a guess
        wait_for(consumer, lambda: masked_screen(desktop, everything), "the blanked picture")
        painter.fill(400, 200, 50, 50)  # drawing under a blanked picture stays hidden
        time.sleep(0.3)
        assert consumer.shows(masked_screen(desktop, everything))
        field.broken = False
        wait_for(consumer, desktop.screenshot, "the screen once the source answers")
        assert loop.error is None
    finally:
        loop.stop()
        painter.close()
        source.close()


def test_an_idle_screen_with_a_mask_costs_under_one_percent_of_a_core(desktop: Any) -> None:
    painter = Painter(desktop)
    field = Field()
    field.now = (secret_at(100, 100),)
    loop, consumer, source = open_loop(desktop, CombinedMasks(PrivacyScreen(), field))
    try:
        wait_for(consumer, lambda: masked_screen(desktop, field.now), "the first picture")
        time.sleep(0.3)
        thread = loop._thread
        assert thread is not None and thread.native_id is not None
        deltas, grabs = consumer.deltas, loop.grabs
        cpu0, t0 = thread_cpu_seconds(thread.native_id), time.monotonic()
        time.sleep(3.0)
        idle = (thread_cpu_seconds(thread.native_id) - cpu0) / (time.monotonic() - t0)
        assert idle < 0.01, f"idle capture with a mask used {idle:.1%} of a core"
        assert consumer.deltas == deltas  # a still mask is no damage
        assert loop.grabs == grabs  # and costs no grab
    finally:
        loop.stop()
        painter.close()
        source.close()


def test_a_kick_ends_the_wait_for_damage_at_once(desktop: Any) -> None:
    # The Sichtschutz calls kick(): the thread must look at its masks now, not after
    # its idle wait (which is what this test would otherwise sit out: 30 s).
    from supportdesk.capture.x11_damage import XDamageWatch

    watch = XDamageWatch(desktop.display)
    try:
        watch.take(0.2)  # whatever the desktop drew before
        timer = threading.Timer(0.2, watch.interrupt)
        timer.start()
        t0 = time.monotonic()
        assert watch.take(30.0) == []
        assert time.monotonic() - t0 < 10.0
        timer.join()
    finally:
        watch.close()
    watch.interrupt()  # after close: nothing happens
