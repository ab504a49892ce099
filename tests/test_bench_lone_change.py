"""The bench's lone-change probe on a real Xvfb and our engine: it reads each painted
clock back from the viewer's framebuffer, and a change the viewer never shows counts
as a full second (so a probe that saw nothing cannot pass for a fast server)."""

from __future__ import annotations

import asyncio
import subprocess
import time

from bench.__main__ import ROOT, connect, free_port, server_command, stop
from bench.lone_change import lone_changes
from bench.rfb_client import RFBClient

from tests.desktop import xvfb


async def _probe(port: int, painted_on: str, count: int) -> list[float]:
    client: RFBClient = await connect(port, time.monotonic() + 15)
    try:
        await client.request(incremental=False)
        await client.next_update(within=10)
        await client.request()
        return await lone_changes(client, painted_on, count=count)
    finally:
        await client.close()


def _served(display: str, painted_on: str, count: int = 3) -> list[float]:
    port = free_port()
    proc = subprocess.Popen(
        server_command("supportdesk", display, port),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return asyncio.run(_probe(port, painted_on, count))
    finally:
        stop(proc)


def test_each_lone_change_is_read_back_from_the_viewer() -> None:
    with xvfb(640, 480) as desk:
        latencies = _served(desk.display, desk.display)
    assert len(latencies) == 3
    assert all(0 <= ms < 1000 for ms in latencies), latencies


def test_a_change_the_viewer_never_shows_counts_as_a_second() -> None:
    with xvfb(640, 480) as served, xvfb(640, 480) as elsewhere:
        latencies = _served(served.display, elsewhere.display, count=2)
    assert latencies == [1000.0, 1000.0]
