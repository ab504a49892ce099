"""The video fan-out on its own: key chunks first, a slow viewer skipped to the next key,
key-chunk requests spaced, and the checks on what a browser may configure."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import pytest

from supportdesk.link.frames import LinkProtocolError
from supportdesk.server.relay.video_fanout import (
    VIEWER_BACKLOG,
    VideoFanout,
    VideoViewer,
    check_chunk,
    decodable_codecs,
    video_config,
)


class Socket:
    """A viewer's socket that takes what is sent, or blocks while ``stuck``."""

    def __init__(self, stuck: bool = False) -> None:
        self.sent: list[bytes | str] = []
        self.flowing = asyncio.Event()
        if not stuck:
            self.flowing.set()

    async def send_bytes(self, data: bytes) -> None:
        await self.flowing.wait()
        self.sent.append(data)

    async def send_text(self, data: str) -> None:
        await self.flowing.wait()
        self.sent.append(data)


def chunk(key: bool, at: int, size: int = 16) -> bytes:
    return struct.pack(">BQ", int(key), at) + b"\x00" * size


def viewer(socket: Socket) -> VideoViewer:
    return VideoViewer(socket, "Anna", "agent", False)  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def writing(fanout: VideoFanout, *viewers: VideoViewer) -> list[asyncio.Task[None]]:
    # serve() also reads; the writer alone is what these tests need.
    return [asyncio.create_task(fanout._write(v)) for v in viewers]


async def test_a_new_viewer_gets_the_config_then_starts_at_a_key_chunk() -> None:
    asks: list[int] = []
    now = [0.0]
    fanout = VideoFanout(lambda: asks.append(1), clock=lambda: now[0])
    fanout.configure({"codec": "vp8", "width": 640, "height": 480})
    socket = Socket()
    one = viewer(socket)
    fanout.add(one)
    tasks = await writing(fanout, one)
    fanout.chunk(chunk(False, 1))
    fanout.chunk(chunk(True, 2))
    fanout.chunk(chunk(False, 3))
    await settle()
    assert json.loads(socket.sent[0]) == {
        "type": "config",
        "codec": "vp8",
        "width": 640,
        "height": 480,
    }
    assert socket.sent[1:] == [chunk(True, 2), chunk(False, 3)]
    assert asks == [1]
    for task in tasks:
        task.cancel()


async def test_a_slow_viewer_is_skipped_to_the_next_key_and_the_fast_one_gets_everything() -> None:
    asks: list[float] = []
    now = [10.0]
    fanout = VideoFanout(lambda: asks.append(now[0]), clock=lambda: now[0])
    fanout.configure({"codec": "vp8", "width": 640, "height": 480})
    fast_socket, slow_socket = Socket(), Socket(stuck=True)
    fast, slow = viewer(fast_socket), viewer(slow_socket)
    fanout.add(fast)
    fanout.add(slow)
    tasks = await writing(fanout, fast, slow)
    now[0] += 1
    size = 256 * 1024
    sent = [chunk(True, 0, size)] + [chunk(False, i, size) for i in range(1, 12)]
    for item in sent:
        fanout.chunk(item)
        await settle()
    assert fast_socket.sent[1:] == sent
    # The slow one fell more than VIEWER_BACKLOG behind: its deltas are gone, it waits
    # for a key chunk, and one was asked for.
    assert slow.needs_key and slow.backlog_bytes <= VIEWER_BACKLOG
    assert asks[-1] == now[0]
    slow_socket.flowing.set()
    await settle()
    key = chunk(True, 99, size)
    fanout.chunk(key)
    await settle()
    assert slow_socket.sent[-1] == key
    for task in tasks:
        task.cancel()


async def test_key_chunk_requests_are_spaced_however_many_ask() -> None:
    asks: list[float] = []
    now = [100.0]
    fanout = VideoFanout(lambda: asks.append(now[0]), clock=lambda: now[0])
    for _ in range(50):
        fanout.want_keyframe()
    assert len(asks) == 1
    now[0] += 0.6
    await asyncio.sleep(0.6)  # the deferred one goes out once the spacing has passed
    assert asks == [100.0, 100.6]
    fanout.close()


@pytest.mark.parametrize(
    "message",
    [
        {"codec": "h264", "width": 640, "height": 480},
        {"codec": "avc1.640028<script>", "width": 640, "height": 480},
        {"codec": "vp8", "width": 99999, "height": 480},
        {"codec": "vp8", "width": True, "height": 480},
        {"codec": "vp8", "width": "640", "height": 480},
        {"codec": ["vp8"], "width": 640, "height": 480},
    ],
)
def test_a_bad_video_config_is_a_protocol_error(message: dict[str, Any]) -> None:
    with pytest.raises(LinkProtocolError):
        video_config(message)


def test_good_configs_and_codec_lists_pass_checked() -> None:
    for codec in ("avc1.640028", "avc1.42E01F", "vp8", "vp09.00.10.08", "av01.0.08M.08"):
        assert (
            video_config({"codec": codec, "width": 1920, "height": 1080, "x": 1})["codec"] == codec
        )
    assert decodable_codecs({"codecs": ["vp8", "evil codec", 3, "avc1.640028"]}) == [
        "vp8",
        "avc1.640028",
    ]
    assert decodable_codecs({"codecs": "vp8"}) == []
    with pytest.raises(LinkProtocolError):
        check_chunk(b"\x01" + b"\x00" * 8)


async def test_after_a_chunk_that_did_not_cross_every_viewer_waits_for_a_key() -> None:
    fanout = VideoFanout(lambda: None, clock=lambda: 0.0)
    fanout.configure({"codec": "vp8", "width": 640, "height": 480})
    socket = Socket()
    one = viewer(socket)
    fanout.add(one)
    tasks = await writing(fanout, one)
    fanout.chunk(chunk(True, 1))
    fanout.skip_to_key()  # chunk 2 was held back: 3 refers to it
    fanout.chunk(chunk(False, 3))
    fanout.chunk(chunk(True, 4))
    await settle()
    assert socket.sent[1:] == [chunk(True, 1), chunk(True, 4)]
    for task in tasks:
        task.cancel()
