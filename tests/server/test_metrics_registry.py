"""The metrics' registry and the viewer lag without a network: each app counts in a
registry of its own (several servers run in one process in the tests, several workers
would in one interpreter), every sample names its node, and a frame that queued behind
a slow viewer is timed from queueing to written."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from supportdesk.config import Settings
from supportdesk.server.app import create_app
from supportdesk.server.metrics.catalogue import ServerMetrics
from supportdesk.server.metrics.meters import Kept
from supportdesk.server.relay.rfb_viewers import RfbViewers
from supportdesk.server.relay.video_fanout import VideoFanout, VideoViewer

SLOW = 0.2  # seconds the slow viewer's socket takes per message


class SlowSocket:
    """A viewer's socket on a slow line: every send takes SLOW seconds."""

    def __init__(self) -> None:
        self.sent: list[bytes | str] = []

    async def send_bytes(self, data: bytes) -> None:
        await asyncio.sleep(SLOW)
        self.sent.append(data)

    async def send_text(self, data: str) -> None:
        self.sent.append(data)


async def test_two_apps_in_one_process_do_not_share_counters(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    ours: ServerMetrics = first.state.metrics
    theirs: ServerMetrics = second.state.metrics
    assert ours.registry is not theirs.registry
    transport = httpx.ASGITransport(app=first, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/static/portal.css")).status_code == 200
    ours.traffic.frames_from_customer.inc()
    assert ours.value("supportdesk_http_requests_total", code="2xx") == 1
    assert theirs.value("supportdesk_http_requests_total", code="2xx") == 0
    assert ours.value("supportdesk_relay_frames_total", direction="from_customer") == 1
    assert theirs.value("supportdesk_relay_frames_total", direction="from_customer") == 0
    text = theirs.render().decode()
    assert 'supportdesk_http_requests_total{code="2xx",node="' in text
    assert re.search(r'supportdesk_http_requests_total\{code="2xx",node="[^"]+"\} 0\.0\n', text)


def test_every_sample_names_its_node_and_no_created_series_is_written() -> None:
    metrics = ServerMetrics("node-b")
    metrics.keys_issued.inc()
    metrics.viewer_lag.labels(kind="rfb").observe(0.03)
    text = metrics.render().decode()
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert samples and all('node="node-b"' in line for line in samples)
    assert "_created" not in text
    assert "# TYPE supportdesk_support_keys_issued_total counter\n" in text
    assert 'supportdesk_support_keys_issued_total{node="node-b"} 1.0\n' in text
    assert 'supportdesk_build_info{node="node-b",version="' in text
    assert 'supportdesk_viewer_lag_seconds_bucket{kind="rfb",le="0.05",node="node-b"} 1.0\n' in text
    assert (
        'supportdesk_viewer_lag_seconds_bucket{kind="rfb",le="0.025",node="node-b"} 0.0\n' in text
    )


async def test_a_frame_queued_behind_a_slow_rfb_viewer_is_timed_until_written() -> None:
    lag = Kept()
    viewers = RfbViewers(1024 * 1024, lambda channel, size: None, lag)
    socket = SlowSocket()
    viewer = viewers.open(socket, False, "Anna", "agent", None)  # type: ignore[arg-type]
    assert viewer is not None
    writer = asyncio.create_task(viewers.write(viewer))
    viewers.send(viewer.channel, b"first")
    await asyncio.sleep(0.01)  # the writer is sending "first" now
    viewers.send(viewer.channel, b"second")  # waits behind it
    viewers.send(viewer.channel, b"third")
    for _ in range(100):
        if lag.count == 3:
            break
        await asyncio.sleep(0.05)
    viewers.close(viewer)
    await asyncio.wait_for(writer, 5)
    assert socket.sent == [b"first", b"secondthird"]  # the two that waited, coalesced
    assert lag.count == 3
    # "first" waited one send (SLOW), the other two that and their own (2 x SLOW).
    assert lag.value >= SLOW + 2 * (2 * SLOW) - 0.05


async def test_a_video_chunk_queued_behind_a_slow_viewer_is_timed_until_written() -> None:
    lag = Kept()
    fanout = VideoFanout(lambda: None, lag=lag)
    socket = SlowSocket()
    viewer = VideoViewer(socket, "Anna", "agent", True)  # type: ignore[arg-type]
    fanout.viewers.append(viewer)  # as add() does, without asking for a key chunk
    writer = asyncio.create_task(fanout._write(viewer))
    key = b"\x01" + bytes(8) + b"key chunk"
    fanout.chunk(key)
    fanout.chunk(b"\x00" + bytes(8) + b"delta")
    for _ in range(100):
        if lag.count == 2:
            break
        await asyncio.sleep(0.05)
    fanout.remove(viewer)
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    assert len(socket.sent) == 2 and lag.count == 2
    assert lag.value >= SLOW + 2 * SLOW - 0.05  # the second waited for the first's send
