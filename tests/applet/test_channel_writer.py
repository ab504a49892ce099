"""The applet's channel writer: order, coalescing, credit and backpressure."""

from __future__ import annotations

import asyncio

import pytest

from supportdesk.applet.link.channel_writer import CHUNK, HOLD, ChannelWriter
from supportdesk.link.frames import CONTROL_CHANNEL, decode_control, decode_frame


class Link:
    """Collects what the writer sends; can fail like a lost connection."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.fail = False

    async def send(self, message: bytes) -> None:
        if self.fail:
            raise ConnectionError("link lost")
        self.sent.append(message)

    def payloads(self, channel: int = 3) -> list[bytes]:
        frames = [decode_frame(m) for m in self.sent]
        return [bytes(f.payload) for f in frames if f.channel == channel]


async def held_frames_leave() -> None:
    await asyncio.sleep(HOLD * 5)


async def test_a_lone_update_leaves_at_once_as_one_frame() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3)
    await writer.write(b"update")
    assert link.payloads() == [b"update"]  # sent before write() returned
    assert writer.credit.in_flight == 6


async def test_updates_close_together_leave_as_one_frame_within_the_hold() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3)
    await writer.write(b"first")
    for i in range(50):
        await writer.write(b"u%02d" % i)
    assert link.payloads() == [b"first"]
    await held_frames_leave()
    assert link.payloads() == [b"first", b"".join(b"u%02d" % i for i in range(50))]


async def test_a_full_chunk_leaves_without_waiting() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3)
    await writer.write(b"first")
    await writer.write(bytes(CHUNK))
    assert [len(p) for p in link.payloads()] == [5, CHUNK]


async def test_the_stream_is_the_same_bytes_in_the_same_order() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3, window=64 * 1024)
    data = bytes(range(256)) * 4000  # > one chunk, > the window
    writing = asyncio.create_task(writer.write(data))
    received = b""
    while len(received) < len(data):
        await held_frames_leave()
        delivered = b"".join(link.payloads())[len(received) :]
        received += delivered
        await writer.returned(len(delivered))
    await writing
    assert received == data
    assert all(len(p) <= 64 * 1024 for p in link.payloads())


async def test_never_more_than_the_window_in_flight() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3, window=1000)
    await writer.write(b"a" * 400)
    await writer.write(b"b" * 800)
    await held_frames_leave()
    assert [len(p) for p in link.payloads()] == [400, 600]
    assert writer.credit.in_flight == 1000
    await writer.returned(400)  # what waited for credit leaves when it comes back
    assert [len(p) for p in link.payloads()] == [400, 600, 200]


async def test_write_waits_while_a_chunk_is_queued_and_no_credit_comes() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3, window=1000)
    await writer.write(b"x" * 1000)
    blocked = asyncio.create_task(writer.write(b"y" * CHUNK))
    await held_frames_leave()
    assert not blocked.done()  # the RFB session is held back: this is the backpressure
    while not blocked.done():
        await writer.returned(writer.credit.in_flight)
        await asyncio.sleep(0)
    assert writer.queued < CHUNK


async def test_a_message_keeps_its_place_and_uses_no_credit() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3, window=10)
    await writer.write(b"0123456789")
    await writer.write(b"abc")
    await writer.write_message(b"\x00\x03marker")
    await writer.write(b"def")
    await held_frames_leave()
    assert link.sent == [b"\x00\x03" + b"0123456789"]  # the rest waits for credit
    await writer.returned(10)
    assert link.sent == [
        b"\x00\x03" + b"0123456789",
        b"\x00\x03abc",
        b"\x00\x03marker",
        b"\x00\x03def",
    ]
    assert writer.credit.in_flight == 6


async def test_close_tells_the_relay_and_refuses_further_writes() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3)
    await writer.write(b"hello")
    await writer.write(b"held")
    await writer.close()
    await held_frames_leave()
    assert link.payloads() == [b"hello"]  # what was held is dropped with the channel
    frame = decode_frame(link.sent[-1])
    assert frame.channel == CONTROL_CHANNEL
    assert decode_control(frame.payload) == {"type": "close", "channel": 3}
    with pytest.raises(ConnectionError):
        await writer.write(b"more")


async def test_a_lost_link_fails_the_writer_instead_of_hanging() -> None:
    link = Link()
    link.fail = True
    writer = ChannelWriter(link.send, 3, window=100)
    with pytest.raises(ConnectionError):
        await writer.write(b"x" * 100)
    assert writer.closed
    with pytest.raises(ConnectionError):
        await writer.write(b"y")
