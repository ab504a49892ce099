"""The dragged window of ``python -m bench.masking``: masking on and off for a field that moves.

The damage path's "field moving" mode is a stress case: its mask jumps between two
places on every wake-up while nothing underneath moves, so "off" has none of that
damage. What a user means by "masking on vs off" for a moving field is this: a small
window with a password field (a title bar, the field, four typed dots) really dragged
across the scrolling text of the reference workload, 8 pixels every 1/30 s (240 pixels
a second, to and fro), so both modes pay for the window's motion (the X server's damage
where it left and where it came) and the masked mode adds only what masking costs.

:class:`Dragger` moves the window from a thread of its own (its own X connection) and
says where the field is, as the AT-SPI watcher would after the move: the masked
lane's mask source reads it. :func:`run` takes one damage watch and hands every wake's
damage to both lanes in turn, as :func:`bench.masking_damage.run` does for the other
modes, with the same wake-up (:func:`bench.masking_damage.wake`) and encoding.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import workload
from bench.__main__ import xvfb
from bench.masking_damage import Lane, start_lane, timed_wake
from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.capture.screen_source import MssScreenSource
from supportdesk.rfb import Rect, RFBServerConnection

WINDOW = (360, 120)  # the dragged window's size
FIELD_IN_WINDOW = Rect(30, 60, 300, 32)  # the password field, in the window
STEP = 8  # pixels per move, 30 moves a second
FROM_X, TO_X, AT_Y = 80, 560, 300  # over the xterm's text (150x45+0+40)
OFF, ON = "dragged, off", "dragged, masked"


def place(step: int) -> tuple[int, int]:
    """The window's top-left after ``step`` moves: to and fro over the text, a little
    up and down (a hand's drag)."""
    span = (TO_X - FROM_X) // STEP
    k = step % (2 * span)
    x = FROM_X + STEP * (k if k < span else 2 * span - k)
    j = step // 4 % 16
    return x, AT_Y + 2 * (j if j < 8 else 16 - j)


class Dragger:
    """Drags the window on ``display`` in a thread; :meth:`areas` says where its field is."""

    def __init__(self, display: str) -> None:
        from Xlib import X
        from Xlib import display as xdisplay

        self._d: Any = xdisplay.Display(display)
        screen = self._d.screen()
        x, y = place(0)
        w, h = WINDOW

        def window(parent: Any, r: tuple[int, int, int, int], rgb: int, **kw: Any) -> Any:
            win = parent.create_window(
                *r, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
                background_pixel=rgb, **kw,
            )  # fmt: skip
            win.map()
            return win

        self._win = window(screen.root, (x, y, w, h), 0xE8E8E8, override_redirect=True)
        window(self._win, (0, 0, w, 24), 0x2D5A9E)  # title bar
        f = FIELD_IN_WINDOW
        field = window(self._win, (f.x, f.y, f.width, f.height), 0xFFFFFF)
        for i in range(4):  # what the customer typed: never sent while masked
            window(field, (10 + 16 * i, 12, 8, 8), 0x202020)
        self._d.sync()
        self.at = (x, y)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drag", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        step, due = 0, time.monotonic()
        while not self._stop.is_set():
            step += 1
            x, y = place(step)
            self._win.configure(x=x, y=y)
            self._d.sync()  # moved on the server before the field is said to be there
            self.at = (x, y)
            due += 1 / 30
            self._stop.wait(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._d.close()

    def areas(self) -> Sequence[MaskArea]:
        x, y = self.at
        f = FIELD_IN_WINDOW
        return (MaskArea(Rect(x + f.x, y + f.y, f.width, f.height), MaskKind.SECRET_INPUT),)

    def move(self) -> None:
        """The window moves by itself (a lane's mask source is moved once a wake-up)."""


def run(
    seconds: float, engine: Callable[[int, int], RFBServerConnection]
) -> tuple[dict[str, Lane], dict[str, float]]:
    """Both lanes after ``seconds`` of wake-ups on the workload with the dragged window,
    and what was seen (as :func:`bench.masking_damage.run`)."""
    seen = {"load before": os.getloadavg()[0]}
    with xvfb() as display:
        procs = workload.start(display)
        source = MssScreenSource(display)
        watch = source.damage_watch()
        if watch is None:
            raise RuntimeError("this X server has no DAMAGE")
        time.sleep(3)  # the painter and the xterm are up
        dragger = Dragger(display)
        try:
            mon = source.monitors()[0]
            lanes = {
                OFF: start_lane(source, None, engine(mon.width, mon.height)),
                ON: start_lane(source, dragger, engine(mon.width, mon.height)),  # type: ignore[arg-type]
            }
            watch.take(0.0)  # the damage so far is in every lane's first grab
            dragger.start()
            order = list(lanes)
            wakes, drawn_px = 0, 0
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                drawn = watch.take(1 / 30)
                wakes += 1
                drawn_px += sum(r.area for r in drawn)
                order.append(order.pop(0))  # each lane first in turn
                for mode in order:
                    lane = lanes[mode]
                    timed_wake(lane, drawn)
        finally:
            dragger.stop()
            watch.close()
            source.close()
            for p in procs:
                p.terminate()
    seen.update(
        {"wakes": wakes, "drawn px": drawn_px / max(wakes, 1), "load after": os.getloadavg()[0]}
    )
    return lanes, seen
