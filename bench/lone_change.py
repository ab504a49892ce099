"""How soon a lone small change on a still screen reaches the viewer (issue 16's target).

With the workload frozen, the bench paints the clock (bench/workload.py) by itself, in
its own window on top, after ``GAP`` seconds or a little more, as a blinking cursor or a clock in
the taskbar would change: nothing else moves before or after it. For each change, the
time from painting it (the wall-clock milliseconds it shows) until the viewer's
framebuffer shows it. The target is one frame interval: 1/60 s, the frame rate of
TigerVNC's servers and of our frame clock.
"""

from __future__ import annotations

import contextlib
import time

from bench import workload
from bench.rfb_client import RFBClient

CHANGES = 12
GAP = 0.25
"""Seconds of a still screen before each change, at least."""
FRAME_INTERVAL_MS = 1000 / 60


async def lone_changes(client: RFBClient, display: str, count: int = CHANGES) -> list[float]:
    """Latencies (ms) of ``count`` lone clock changes; ``client`` has a request out.

    The first change (mapping the window) is not counted. A change the viewer has not
    shown within a second counts as 1000 ms.
    """
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        clock = workload.Clock(d)
        d.sync()
        latencies: list[float] = []
        for i in range(count + 1):
            # Spread over a frame interval: a server polling at 60/s must not be met at
            # the same point of its cycle every time.
            await _drain(client, GAP + (i * 5 % count) / count * FRAME_INTERVAL_MS / 1000)
            painted = workload.wall_ms()
            clock.paint(painted)
            d.flush()
            shown = await _shown(client, painted, within=1.0)
            if i > 0:
                latencies.append(1000.0 if shown is None else shown)
        clock.window.destroy()
        d.sync()
        await _drain(client, GAP)
        return latencies
    finally:
        d.close()


async def _drain(client: RFBClient, seconds: float) -> None:
    """Keep one request out for ``seconds``, taking whatever updates come meanwhile."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        with contextlib.suppress(TimeoutError):
            await client.next_update(within=left)
            await client.request()


async def _shown(client: RFBClient, painted: int, within: float) -> float | None:
    """Milliseconds from ``painted`` until the framebuffer shows it; None if not ``within``."""
    until = time.monotonic() + within
    while (left := until - time.monotonic()) > 0:
        try:
            update = await client.next_update(within=left)
        except TimeoutError:
            return None
        await client.request()
        if workload.read_clock(client.fb) == painted:
            now = int(update.received_at * 1000) & 0xFFFFFFFF
            return float((now - painted) & 0xFFFFFFFF)
    return None
