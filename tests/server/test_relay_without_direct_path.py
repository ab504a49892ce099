"""The relay on uvicorn's own WebSocket protocol, without the direct path: every frame
takes the ASGI route, and the session works the same."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from supportdesk.link.credit import DEFAULT_WINDOW
from supportdesk.link.frames import encode_frame
from tests.live_server import LiveServer
from tests.server.in_process_server import in_process_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    control_socket,
    join_token,
    next_of,
    open_viewer,
)

HANDSHAKE = b"RFB 003.008\n\x01\x01"
KEY_EVENT = struct.pack(">BBxxI", 4, 1, 0x61)


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("relay-asgi")
    running: tuple[LiveServer, FastAPI]
    async with in_process_server(workdir, ws="websockets-sansio") as running:
        await asyncio.to_thread(add_agent, running[0], "anna")
        yield running[0]


async def test_frames_input_credit_and_the_end_take_the_asgi_route(server: LiveServer) -> None:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view", "control"]})
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    viewer = await open_viewer(server, number, control)
    channel = (await applet.next_control("open"))["channel"]

    # A quarter window of screen updates reaches the viewer in order, and the credit
    # for it comes back to the applet.
    await applet.socket.send(encode_frame(channel, HANDSHAKE))
    assert await viewer.recv() == HANDSHAKE
    update = bytes(range(256)) * 256
    for _ in range(DEFAULT_WINDOW // 4 // len(update)):
        await applet.socket.send(encode_frame(channel, update))
        assert await asyncio.wait_for(viewer.recv(), 2) == update
    credit = await asyncio.wait_for(applet.next_control("credit"), 2)
    assert credit["channel"] == channel and credit["bytes"] >= DEFAULT_WINDOW // 4

    # The agent's key press reaches the applet.
    await viewer.send(HANDSHAKE + KEY_EVENT)
    for _ in range(50):
        if bytes(applet.data.get(channel, b"")).endswith(KEY_EVENT):
            break
        await applet.drain(0.05)
    assert bytes(applet.data[channel]).endswith(KEY_EVENT)

    await applet.send({"type": "end"})
    ended = await asyncio.wait_for(next_of(control, "state", state="ended"), 2)
    assert ended["end_reason"] == "customer"
    for socket in (viewer, control, applet.socket):
        await socket.close()
    await agent.close()
