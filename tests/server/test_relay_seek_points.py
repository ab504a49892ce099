"""The relay asks a browser for the recording's seek points by its chunks, not every 10 s.

A server whose ``[recording] video_seek_chunks`` is 10: after a key chunk the browser is
asked for the next one once ten chunks came, never before, and a key chunk from any
cause starts the count again (docs/browser-share.md, "Recording").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from supportdesk.link.frames import encode_frame
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import FakeApplet, add_agent
from tests.server.test_relay_browser import chunk, consented

CONFIG = {"type": "video_config", "codec": "avc1.640028", "width": 1024, "height": 768}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("relay-seek-points"), SUPPORTDESK_RECORDING_VIDEO_SEEK_CHUNKS="10"
    ) as running:
        add_agent(running, "anna")
        yield running


def asked(link: FakeApplet) -> int:
    return sum(1 for m in link.control if m["type"] == "keyframe")


async def send_chunks(link: FakeApplet, key: bool, count: int, start_us: int) -> None:
    for i in range(count):
        await link.socket.send(encode_frame(1, chunk(key and i == 0, start_us + i)))


async def test_a_seek_point_is_asked_for_after_so_many_chunks_and_not_before(
    server: LiveServer,
) -> None:
    agent, link, _ = await consented(server)
    await link.next_control("keyframe")  # the channel opened: its first seek point
    await link.send(CONFIG)
    await send_chunks(link, True, 10, 0)  # a key chunk and 9 deltas
    await link.drain(2.5)  # more than two ticks of the recording's check
    before = asked(link)
    await send_chunks(link, False, 1, 100)  # the 10th delta since the key chunk
    await asyncio.wait_for(link.next_control("keyframe"), 3)  # at the next tick (1 s)
    assert asked(link) == before + 1
    # The key chunk the browser answers with starts the count again.
    await send_chunks(link, True, 6, 200)
    await link.drain(2.5)
    assert asked(link) == before + 1
    await link.send({"type": "end"})
    await agent.close()
