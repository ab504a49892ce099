"""The applet's channel writer: order, coalescing, credit and backpressure."""

from __future__ import annotations

import asyncio

import pytest

from supportdesk.applet.channel_writer import CHUNK, ChannelWriter
from supportdesk.link.frames import CONTROL_CHANNEL, decode_control, decode_frame


class Link:
    """Collects what the writer sends; can hold sends back like a slow socket."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.open = asyncio.Event()
        self.open.set()
        self.fail = False

    async def send(self, message: bytes) -> None:
        await self.open.wait()
        if self.fail:
            raise ConnectionError("link lost")
        self.sent.append(message)

    def payloads(self, channel: int = 3) -> list[bytes]:
        frames = [decode_frame(m) for m in self.sent]
        return [bytes(f.payload) for f in frames if f.channel == channel]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_update_leaves_at_once_as_one_frame() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3)
    await writer.write(b"update")
    await settle()
    assert link.payloads() == [b"update"]
    assert writer.credit.in_flight == 6


async def test_updates_queued_behind_a_slow_send_go_out_as_one_frame() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3)
    link.open.clear()
    await writer.write(b"first")
    await settle()  # the pump now waits in send() with "first"
    for i in range(50):
        await writer.write(b"u%02d" % i)
    link.open.set()
    await settle()
    assert link.payloads() == [b"first", b"".join(b"u%02d" % i for i in range(50))]


async def test_the_stream_is_the_same_bytes_in_the_same_order() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3, window=64 * 1024)
    data = bytes(range(256)) * 4000  # > one chunk, > the window
    link.open.clear()
    writing = asyncio.create_task(writer.write(data))
    await settle()
    link.open.set()
    received = b""
    while len(received) < len(data):
        await settle()
        delivered = b"".join(link.payloads())[len(received) :]
        received += delivered
        await writer.returned(len(delivered))
    await writing
    assert received == data
    assert all(len(p) <= 64 * 1024 for p in link.payloads())


async def test_never_more_than_the_window_in_flight() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3, window=1000)
    await writer.write(b"a" * 600)
    await settle()
    await writer.write(b"b" * 600)
    await settle()
    assert [len(p) for p in link.payloads()] == [600, 400]
    assert writer.credit.in_flight == 1000
    await writer.returned(600)
    await settle()
    assert [len(p) for p in link.payloads()] == [600, 400, 200]


async def test_write_waits_while_a_chunk_is_queued_and_no_credit_comes() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3, window=1000)
    await writer.write(b"x" * 1000)
    await settle()
    blocked = asyncio.create_task(writer.write(b"y" * CHUNK))
    await settle()
    assert not blocked.done()  # the RFB session is held back: this is the backpressure
    await writer.returned(1000)
    for _ in range(CHUNK // 1000 + 5):
        await settle()
        sent = sum(len(p) for p in link.payloads()) - 1000
        if blocked.done():
            break
        await writer.returned(writer.credit.in_flight)
    assert blocked.done()
    assert sent > 0


async def test_a_message_keeps_its_place_and_uses_no_credit() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3, window=10)
    link.open.clear()
    await writer.write(b"0123456789")
    await settle()
    await writer.write(b"abc")
    await writer.write_message(b"\x00\x03marker")
    await writer.write(b"def")
    link.open.set()
    await settle()
    assert link.sent[:1] == [b"\x00\x03" + b"0123456789"]
    assert len(link.sent) == 1  # "abc" waits for credit, and the marker behind it
    await writer.returned(10)
    await settle()
    assert link.sent[1:] == [b"\x00\x03abc", b"\x00\x03marker", b"\x00\x03def"]
    assert writer.credit.in_flight == 6


async def test_close_tells_the_relay_and_refuses_further_writes() -> None:
    link = Link()
    writer = ChannelWriter(link.send, 3)
    await writer.write(b"hello")
    await settle()
    await writer.close()
    frame = decode_frame(link.sent[-1])
    assert frame.channel == CONTROL_CHANNEL
    assert decode_control(frame.payload) == {"type": "close", "channel": 3}
    with pytest.raises(ConnectionError):
        await writer.write(b"more")


async def test_a_lost_link_fails_the_writer_instead_of_hanging() -> None:
    link = Link()
    link.fail = True
    writer = ChannelWriter(link.send, 3, window=100)
    await writer.write(b"x" * 100)
    await settle()
    with pytest.raises(ConnectionError):
        await writer.write(b"y" * CHUNK)
    assert writer.closed
