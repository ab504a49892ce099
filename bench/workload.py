"""The reference workload: a painted millisecond clock, a photo-like animation and scrolling text.

Run on a 1920x1080 Xvfb. The clock is 40 black/white blocks of 16x16 pixels in the
top-left corner: 32 bits of wall-clock milliseconds (mod 2**32) and an 8-bit check, so
a viewer can read from its own framebuffer when the pixels it shows were painted
(:func:`read_clock`). The animation is a 480x270 plasma sliding sideways at 30 frames
a second (JPEG territory); the scrolling text is an xterm printing 30 lines a second
(CopyRect territory). Deterministic apart from the clock itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import numpy as np
import numpy.typing as npt

CLOCK_BITS = 40
BLOCK = 16
CLOCK_AREA = (0, 0, CLOCK_BITS * BLOCK, BLOCK)
ANIMATION_AREA = (1280, 64, 480, 270)
TEXT_LINES_PER_SECOND = 30
TEXT_GEOMETRY = "150x45+0+40"


def clock_geometry() -> dict[str, int]:
    """Where a page's probe finds the clock: its bits, block size, block centre, width."""
    return {"bits": CLOCK_BITS, "block": BLOCK, "centre": BLOCK // 2, "clock": CLOCK_BITS * BLOCK}


def clock_bits(ms: int) -> list[int]:
    """The 40 bits painted for ``ms``: 32 of the value (MSB first), then an XOR check byte."""
    value = ms & 0xFFFFFFFF
    check = (value ^ (value >> 8) ^ (value >> 16) ^ (value >> 24)) & 0xFF
    word = (value << 8) | check
    return [(word >> (CLOCK_BITS - 1 - i)) & 1 for i in range(CLOCK_BITS)]


def read_clock(rgb: npt.NDArray[np.uint8]) -> int | None:
    """Read the painted clock from an RGB framebuffer; None if torn or not there."""
    centre = BLOCK // 2
    samples = rgb[centre, centre : CLOCK_BITS * BLOCK : BLOCK].astype(np.int32).mean(axis=1)
    word = 0
    for bit in samples > 128:
        word = (word << 1) | int(bit)
    value = word >> 8
    check = (value ^ (value >> 8) ^ (value >> 16) ^ (value >> 24)) & 0xFF
    return value if check == word & 0xFF else None


def wall_ms() -> int:
    """Wall-clock milliseconds mod 2**32, as painted."""
    return int(time.time() * 1000) & 0xFFFFFFFF


def _plasma(width: int, height: int) -> npt.NDArray[np.uint8]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    v = np.sin(x / 23.0) + np.sin(y / 17.0) + np.sin((x + y) / 29.0) + np.sin(np.hypot(x, y) / 13.0)
    bgrx = np.zeros((height, width, 4), dtype=np.uint8)
    bgrx[..., 2] = (128 + 127 * np.sin(v * np.pi)).astype(np.uint8)
    bgrx[..., 1] = (128 + 127 * np.sin(v * np.pi + 2.1)).astype(np.uint8)
    bgrx[..., 0] = (128 + 127 * np.sin(v * np.pi + 4.2)).astype(np.uint8)
    return bgrx


def _window(d: Any, x: int, y: int, w: int, h: int) -> Any:
    from Xlib import X

    screen = d.screen()
    win = screen.root.create_window(
        x, y, w, h, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
        background_pixel=screen.black_pixel, override_redirect=True,
    )  # fmt: skip
    win.map()
    return win


class Clock:
    """The clock's window on display ``d``, mapped on top of what is there."""

    def __init__(self, d: Any) -> None:
        screen = d.screen()
        self.window = _window(d, *CLOCK_AREA)
        self._white = self.window.create_gc(foreground=screen.white_pixel)
        self._black = self.window.create_gc(foreground=screen.black_pixel)

    def paint(self, ms: int) -> None:
        """Paint ``ms`` (the requests are queued: the caller flushes)."""
        bits = clock_bits(ms)
        for value, gc in ((0, self._black), (1, self._white)):
            self.window.poly_fill_rectangle(
                gc, [(i * BLOCK, 0, BLOCK, BLOCK) for i, b in enumerate(bits) if b == value]
            )


def run_painter() -> None:
    """Paint the clock every 10 ms and the animation every 33 ms, forever."""
    from Xlib import X, display

    d = display.Display()
    screen = d.screen()
    clock = Clock(d)
    ax, ay, aw, ah = ANIMATION_AREA
    anim = _window(d, ax, ay, aw, ah)
    agc = anim.create_gc()
    plasma = _plasma(aw * 2, ah)
    d.sync()
    frame = 0
    next_anim = time.monotonic()
    while True:
        clock.paint(wall_ms())
        now = time.monotonic()
        if now >= next_anim:
            offset = (frame * 8) % aw
            image = plasma[:, offset : offset + aw]
            for top in range(0, ah, 64):  # one PutImage request must stay under 256 KiB
                band = np.ascontiguousarray(image[top : top + 64])
                anim.put_image(
                    agc, 0, top, aw, band.shape[0], X.ZPixmap, screen.root_depth, 0,
                    band.tobytes(),
                )  # fmt: skip
            frame += 1
            next_anim += 1 / 30
        d.flush()
        time.sleep(0.010)


def run_text() -> None:
    """Print numbered, varied lines at a fixed rate (the xterm scrolls)."""
    words = [
        "Konto", "Umsatz", "Überweisung", "Dauerauftrag",
        "Lastschrift", "Depot", "Kreditkarte", "Freistellung",
    ]  # fmt: skip
    n = 0
    while True:
        line = " ".join(words[(n + i * 3) % len(words)] for i in range(12))
        print(f"{n:07d} {line} {n * 7919 % 100000:05d}", flush=True)
        n += 1
        time.sleep(1 / TEXT_LINES_PER_SECOND)


def start(display: str) -> list[subprocess.Popen[bytes]]:
    """Start painter and scrolling xterm on ``display``; return the processes."""
    env = {**os.environ, "DISPLAY": display, "LC_ALL": "C.UTF-8"}
    env.pop("XAUTHORITY", None)
    text = [sys.executable, "-m", "bench.workload", "text"]
    procs = [
        subprocess.Popen(
            ["xterm", "-u8", "-geometry", TEXT_GEOMETRY, "+sb", "-e", *text], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen([sys.executable, "-m", "bench.workload", "paint"], env=env),
    ]  # fmt: skip
    return procs


if __name__ == "__main__":
    {"paint": run_painter, "text": run_text}[sys.argv[1]]()
