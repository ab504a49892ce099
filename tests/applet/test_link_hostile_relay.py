"""A relay that sends malformed control messages cannot crash the applet.

Every message that breaks the link protocol (wrong types, unknown screen, negative
numbers, missing fields, not JSON) ends the session here with a clean protocol error:
capture stops, the relay hears "end", and the customer still gets the receipt
(``on_over``) with the end reason "error". Before, ``{"type": "screen", "screen": -1}``
followed by the next viewer's ``open`` killed the link's message handler and the
customer got no receipt.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from supportdesk.applet.link.channels import ChannelReader
from supportdesk.link.frames import encode_frame
from tests.faults import FaultProxy

from .test_link_reconnect import FakeRelay, relay, start_customer, tls  # noqa: F401

HOSTILE: list[Any] = [
    [{"type": "screen", "screen": -1}, {"type": "open", "channel": 2, "view_only": False}],
    [{"type": "screen", "screen": 3}],  # the customer has one screen
    [{"type": "screen", "screen": "1"}],
    [{"type": "open", "channel": "2"}],
    [{"type": "open"}],
    [{"type": "open", "channel": -1}],
    [{"type": "credit", "channel": 1, "bytes": -5}],
    [{"type": "close", "channel": 1.5}],
    [{"type": "keyframe", "channel": True}],
    [{"type": "state", "state": "active", "capabilities": 5}],
    [{"type": "state", "state": "active", "capabilities": ["view", "root"]}],
    [{"type": "consent_request", "renewal": True}],
    [{"type": "end", "reason": {"x": 1}}],
    [{"type": 7}],
    [b"{not json"],
    [b"[" * 100_000],
]


def _frame(message: Any) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return encode_frame(0, body)


@pytest.mark.parametrize("messages", HOSTILE, ids=lambda m: repr(m)[:60])
async def test_a_malformed_control_message_ends_cleanly_with_the_receipt(
    relay: tuple[FakeRelay, FaultProxy, str],  # noqa: F811
    tls: tuple[Path, Path],  # noqa: F811
    tmp_path: Path,
    messages: list[Any],
) -> None:
    fake, _proxy, server = relay
    customer = start_customer(server, tls, tmp_path)
    await customer.wait_for("active")
    await asyncio.sleep(0.2)
    for message in messages:
        await fake.links[-1].send(_frame(message))
    facts = await asyncio.wait_for(customer.task, 10)
    assert facts.end_reason == "error"
    assert customer.over == [facts] and facts.ended_at is not None
    assert ("end", {"type": "end", "reason": "error"}) in customer.events
    assert {"type": "end"} in fake.received
    assert not customer.link.channels.open  # capture stopped, channels gone


async def test_the_viewer_queue_is_bounded_by_the_credit_window() -> None:
    returned: list[int] = []

    async def give_back(size: int) -> None:
        returned.append(size)

    reader = ChannelReader(window=1000, return_credit=give_back)
    assert reader.feed(b"x" * 600)
    assert reader.feed(b"y" * 400)
    assert not reader.feed(b"z")  # beyond the window: refused, not queued
    assert reader.unread == 1000
    assert await reader.read() == b"x" * 600
    assert returned == [600]  # a quarter window read: credit goes back
    assert reader.feed(b"z" * 600)
    assert reader.unread == 1000


async def test_a_flooding_viewer_loses_its_channel_not_the_customers_memory() -> None:
    """Viewer bytes arriving faster than the session reads stop at the credit window."""
    from supportdesk.applet.link.channels import RFBChannels
    from supportdesk.capture.screen_source import MemoryScreenSource
    from supportdesk.link.credit import DEFAULT_WINDOW
    from supportdesk.link.frames import decode_control, decode_frame

    sent: list[bytes] = []
    controls: list[dict[str, Any]] = []

    async def send(data: bytes) -> None:
        sent.append(data)

    async def control(message: dict[str, Any]) -> None:
        controls.append(message)

    channels = RFBChannels(
        screen_source=lambda: MemoryScreenSource(((0, 0, 64, 48),)),
        input_sink=lambda: None,
        clipboard=lambda: None,
        send=send,
        control=control,
    )
    await channels.add(1, view_only=True, control=False, paused=False)
    reader = channels.open[1].reader
    chunk = b"\x03\x01" + bytes(8)  # update requests, 64 KiB at a time
    peak = 0
    for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, all before the session can read
        await channels.feed(1, chunk * 6554)
        peak = max(peak, reader.unread)
    assert peak <= DEFAULT_WINDOW
    assert 1 not in channels.open
    closes = [decode_control(decode_frame(m).payload) for m in sent if m[:2] == b"\0\0"]
    assert {"type": "close", "channel": 1} in closes
    await channels.drop_all()
    channels.close_devices()


def test_what_the_fuzzer_found_in_control_messages_is_a_link_protocol_error() -> None:
    """Found by `python -m fuzzing`: an agent name the dialog refuses, an integer of
    more than 4300 digits, JSON nested deeper than the stack."""
    from supportdesk.applet.link.consent import consent_request
    from supportdesk.link.frames import LinkProtocolError, decode_control

    request = {
        "type": "consent_request",
        "bank": "B",
        "domain": "d",
        "agent_name": "A" * 500,
        "consultation_number": "1",
        "verification_code": "1",
        "capabilities": [],
    }
    with pytest.raises(LinkProtocolError, match="unusable consent request"):
        consent_request(request, None)
    for payload in (b'{"type":"credit","bytes":' + b"9" * 5000 + b"}", b"[" * 100_000):
        with pytest.raises(LinkProtocolError):
            decode_control(payload)


async def test_viewer_bytes_piling_up_behind_a_consent_dialog_are_bounded(
    relay: tuple[FakeRelay, FaultProxy, str],  # noqa: F811
    tls: tuple[Path, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    """While the customer reads the consent dialog the link's messages wait; RFB bytes
    may wait there only up to MAX_WAITING_FRAME_BYTES, not 256 messages of 4 MiB."""
    import threading

    from supportdesk.applet.link.inbox import MAX_WAITING_FRAME_BYTES

    fake, _proxy, server = relay
    reading, shown = threading.Event(), threading.Event()

    def answer(_n: int) -> bool:
        shown.set()
        reading.wait(10)  # the customer takes their time
        return True

    customer = start_customer(server, tls, tmp_path, answers=answer)
    assert await asyncio.to_thread(shown.wait, 10)  # the consent request is being shown
    piece = bytes(4 * 1024 * 1024 - 2)
    for _ in range(MAX_WAITING_FRAME_BYTES // len(piece) + 1):
        await fake.links[-1].send(encode_frame(5, piece))
    facts = await asyncio.wait_for(customer.task, 10)
    reading.set()
    assert facts.end_reason == "error"
    assert customer.over == [facts]
