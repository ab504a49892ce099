"""Large updates are encoded in a worker thread (the loop stays free), small ones at once."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
from bench.rfb_client import TIGHT, RFBClient

from supportdesk.applet.screen.rfb_link import OFF_LOOP_AREA
from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.capture.screen_source import MemoryScreenSource
from supportdesk.rfb.server import RFBServerConnection

from .harness import serve_session

W, H = 1024, 768


async def test_large_updates_leave_the_loop_free_and_small_ones_stay(monkeypatch: Any) -> None:
    encoded_on: list[tuple[int, int]] = []  # (pixels, thread)
    original = RFBServerConnection.send_framebuffer_update

    def spy(self: RFBServerConnection, frame: Any) -> int:
        encoded_on.append((self.pending_area, threading.get_ident()))
        time.sleep(0.3)  # a slow encode: the loop must not stall meanwhile
        return original(self, frame)

    monkeypatch.setattr(RFBServerConnection, "send_framebuffer_update", spy)
    source = MemoryScreenSource(((0, 0, W, H),))
    rng = np.random.default_rng(3)
    source.desktop[:] = rng.integers(0, 256, (H, W, 4), dtype=np.uint8)
    session = RFBSession(source, None, monitor=1)
    session.start()
    async with serve_session(session) as served:
        client = await RFBClient.open("127.0.0.1", served.port)
        await client.set_encodings(TIGHT)
        await client.request(incremental=False)
        update = asyncio.create_task(client.next_update(within=10))
        ticks = 0
        while not update.done():  # the loop keeps turning while the whole screen is encoded
            await asyncio.sleep(0.01)
            ticks += 1
        await update
        assert ticks >= 10
        source.fill((0, 0, 255, 0), (10, 10, 8, 8))
        await client.request()
        await client.next_update(within=5)
        await client.close()
    loop_thread = threading.get_ident()
    assert encoded_on[0][0] >= OFF_LOOP_AREA and encoded_on[0][1] != loop_thread
    assert encoded_on[-1][0] < OFF_LOOP_AREA and encoded_on[-1][1] == loop_thread
