"""The relay's gate and the Extended Clipboard, over real sockets: caps always pass,
clipboard text only while control is granted."""

from __future__ import annotations

import struct
import zlib

from tests.live_server import LiveServer
from tests.server.relay_parties import control_socket, next_of, open_viewer
from tests.server.test_relay import HANDSHAKE, UPDATE_REQUEST, live_session, server

__all__ = ["server"]  # the module's live server, shared with the relay tests

CAPS, REQUEST, NOTIFY, PROVIDE, TEXT = 1 << 24, 1 << 25, 1 << 27, 1 << 28, 1


def extended(flags: int, payload: bytes = b"") -> bytes:
    body = struct.pack(">I", flags) + payload
    return struct.pack(">Bxxxi", 6, -len(body)) + body


CLIENT_CAPS = extended(CAPS | REQUEST | NOTIFY | PROVIDE | TEXT, b"\0\0\0\0")
TEXT_DATA = "Grüße aus Köln – 100 €\r\n\0".encode()
CLIPBOARD = (
    extended(NOTIFY | TEXT)
    + extended(REQUEST | TEXT)
    + extended(PROVIDE | TEXT, zlib.compress(struct.pack(">I", len(TEXT_DATA)) + TEXT_DATA))
)


async def test_clipboard_reaches_the_applet_only_while_control_is_granted(
    server: LiveServer,
) -> None:
    agent, applet, number = await live_session(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    viewer = await open_viewer(server, number, control, subprotocols=["binary"])
    channel = (await applet.next_control("open"))["channel"]
    await viewer.send(HANDSHAKE + CLIENT_CAPS + CLIPBOARD + UPDATE_REQUEST)
    await applet.drain(0.5)
    assert bytes(applet.data[channel]) == HANDSHAKE + CLIENT_CAPS + CLIPBOARD + UPDATE_REQUEST

    await applet.send({"type": "revoke", "capability": "control"})
    await next_of(control, "state", capabilities=["view"])
    applet.data[channel].clear()
    await viewer.send(CLIENT_CAPS + CLIPBOARD + UPDATE_REQUEST)
    await applet.drain(0.5)
    assert bytes(applet.data[channel]) == CLIENT_CAPS + UPDATE_REQUEST
    await viewer.close()
    await control.close()
    await applet.socket.close()
    await agent.close()


async def test_clipboard_text_beyond_the_configured_limit_ends_that_viewer(
    server: LiveServer,
) -> None:
    agent, applet, number = await live_session(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    viewer = await open_viewer(server, number, control, subprotocols=["binary"])
    channel = (await applet.next_control("open"))["channel"]
    # 300 KiB of text, over the default limit of 256 KiB: the relay does not pass on
    # a byte of it and closes this viewer's stream.
    too_long = struct.pack(">BxxxI", 6, 300 * 1024) + b"x" * (300 * 1024)
    await viewer.send(HANDSHAKE)
    await applet.drain(0.5)
    await viewer.send(too_long)
    await viewer.wait_closed()
    await applet.drain(0.5)
    assert bytes(applet.data.get(channel, b"")) == HANDSHAKE
    await control.close()
    await applet.socket.close()
    await agent.close()
