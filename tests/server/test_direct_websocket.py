"""The direct path beside ASGI, on a real uvicorn server and a real WebSocket client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame
from websockets.protocol import State
from websockets.uri import parse_uri

from supportdesk.server.relay.direct_websocket import (
    DirectWebSocketProtocol,
    direct_socket,
)
from tests.live_server import free_port

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(
    handler: Handler, ws: type[asyncio.Protocol] | str = DirectWebSocketProtocol
) -> AsyncIterator[str]:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await handler(scope, receive, send)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, ws=ws, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_binary_messages_reach_the_handler_in_order_and_text_still_comes_through_asgi() -> (
    None
):
    async def handler(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        direct = direct_socket(scope)
        assert direct is not None
        await asyncio.sleep(0.3)  # the first messages wait in uvicorn's queue meanwhile
        got: list[bytes] = []
        direct.take_binary(got.append)
        message = await receive()
        assert message.get("text") == "done?"
        await send({"type": "websocket.send", "text": json.dumps([b.decode() for b in got])})
        direct.take_binary(None)
        assert (await receive()).get("bytes") == b"after"  # back on the ASGI path

    async with serving(handler) as url, connect(url) as client:
        for n in range(3):
            await client.send(f"early {n}".encode())
        await asyncio.sleep(0.6)
        for n in range(3):
            await client.send(f"late {n}".encode())
        await client.send("done?")
        got = json.loads(await client.recv())
        await client.send(b"after")
    assert got == ["early 0", "early 1", "early 2", "late 0", "late 1", "late 2"]


async def test_send_now_sends_at_once_and_refuses_once_the_peer_stops_reading() -> None:
    sent = asyncio.Future[int]()

    async def handler(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        direct = direct_socket(scope)
        assert direct is not None
        assert direct.send_now(b"hello")
        count = 0
        for _ in range(100_000):  # the peer reads nothing: the buffers fill up
            if not direct.send_now(b"x" * 65536):
                break
            count += 1
            await asyncio.sleep(0)  # let the transport report that it is full
        sent.set_result(count)
        await receive()

    async with serving(handler) as url:
        client, reader, writer = await stalled_client(url)
        count = await asyncio.wait_for(sent, 10)
        assert 0 < count < 1000  # refused once the socket buffers are full, not queued
        # Everything it did take arrives, whole and in order.
        frames: list[bytes] = []
        while len(frames) < count + 1:
            client.receive_data(await asyncio.wait_for(reader.read(1 << 20), 5))
            frames += [bytes(e.data) for e in client.events_received() if isinstance(e, Frame)]
        assert frames[0] == b"hello" and frames[1:] == [b"x" * 65536] * count
        writer.close()


async def stalled_client(
    url: str,
) -> tuple[ClientProtocol, asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket client that has opened the connection and then stops reading."""
    uri = parse_uri(url)
    handshake = ClientProtocol(uri)
    handshake.send_request(handshake.connect())
    reader, writer = await asyncio.open_connection(uri.host, uri.port)
    writer.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    writer.write(b"".join(handshake.data_to_send()))
    handshake.receive_data(await reader.readuntil(b"\r\n\r\n"))  # 101 Switching Protocols
    assert handshake.state is State.OPEN
    return handshake, reader, writer


async def test_a_failing_handler_closes_the_connection_as_an_internal_error() -> None:
    def broken(data: bytes) -> None:
        raise RuntimeError("bug")

    async def handler(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        direct = direct_socket(scope)
        assert direct is not None
        direct.take_binary(broken)
        await receive()

    async with serving(handler) as url, connect(url) as client:
        await client.send(b"boom")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011


async def test_uvicorns_own_protocol_offers_no_direct_path() -> None:
    seen = asyncio.Future[bool]()

    async def handler(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        seen.set_result(direct_socket(scope) is None)

    async with serving(handler, ws="websockets-sansio") as url, connect(url):
        assert await asyncio.wait_for(seen, 5)
