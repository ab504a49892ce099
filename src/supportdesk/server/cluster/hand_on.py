"""Hands a WebSocket on to the node that serves its session, and pipes it through.

A socket that reached a node not holding its session (the load balancer's hash moved
after a node came back, or a client was sent to any node) is opened again on the
holder, directly (its ``[cluster] advertise_url``), with the same path, query,
credentials, Origin and offered subprotocols; the holder decides as it would for a
direct socket. Only once the holder accepted is the client's socket accepted, with
the subprotocol the holder chose; then frames go both ways unchanged until either side
closes, and the close code crosses too. A holder that refuses makes this node refuse.

A handed-on socket carries ``X-Supportdesk-Handed-On``: the holder never hands it on
again, so two nodes with different ideas of who holds a session cannot bounce a
socket between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

log = logging.getLogger(__name__)

HANDED_ON: Final = "x-supportdesk-handed-on"
PASSED_HEADERS: Final = ("authorization", "origin", "accept-language", "user-agent", "cookie")
OPEN_TIMEOUT: Final = 5.0


def handed_on(socket: WebSocket) -> bool:
    """Whether this socket came from another node (it must not be handed on again)."""
    return HANDED_ON in socket.headers


async def try_again_later(socket: WebSocket) -> None:
    """Answer the upgrade with 503: nobody can serve the session this moment (its
    lease runs out after a node died; the bus is away). Unlike a refusal (403), the
    customer's side tries again."""
    await socket.send_denial_response(
        PlainTextResponse("session not served now, try again", status_code=503)
    )


def _target(base: str, socket: WebSocket) -> str:
    scheme = "wss" if base.startswith("https://") else "ws"
    url = f"{scheme}://{base.split('://', 1)[1].rstrip('/')}{socket.url.path}"
    return f"{url}?{socket.url.query}" if socket.url.query else url


def _offered(socket: WebSocket) -> list[str]:
    header = socket.headers.get("sec-websocket-protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


async def hand_on(socket: WebSocket, base: str, node: str) -> None:
    """Serve ``socket`` through the node at ``base``; this node is ``node``."""
    headers = {name: socket.headers[name] for name in PASSED_HEADERS if name in socket.headers}
    peer = socket.client.host if socket.client else ""
    forwarded = socket.headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {peer}" if forwarded else peer
    headers[HANDED_ON] = node
    offered = _offered(socket)
    try:
        upstream = await connect(
            _target(base, socket),
            additional_headers=headers,
            subprotocols=offered or None,  # type: ignore[arg-type]
            max_size=None,
            compression=None,
            ping_interval=None,
            open_timeout=OPEN_TIMEOUT,
            user_agent_header=None,
        )
    except InvalidStatus as refused:
        status = refused.response.status_code
        log.info("holder refused a handed-on socket: %s", status)
        if status >= 500:
            await try_again_later(socket)
        else:
            await socket.close(code=4403, reason="refused")
        return
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        # The holder died and its lease has not run out yet: try again shortly.
        log.warning("cannot reach the node serving the session: %r", exc)
        await try_again_later(socket)
        return
    async with upstream:
        await socket.accept(subprotocol=upstream.subprotocol)
        await _pipe(socket, upstream)


async def _pipe(socket: WebSocket, upstream: ClientConnection) -> None:
    down = asyncio.create_task(_client_to_holder(socket, upstream))
    up = asyncio.create_task(_holder_to_client(socket, upstream))
    try:
        await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (down, up):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _client_to_holder(socket: WebSocket, upstream: ClientConnection) -> None:
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            code = int(message.get("code") or 1000)
            await upstream.close(code if _sendable(code) else 1000, message.get("reason") or "")
            return
        if message.get("bytes") is not None:
            await upstream.send(message["bytes"])
        elif message.get("text") is not None:
            await upstream.send(message["text"])


async def _holder_to_client(socket: WebSocket, upstream: ClientConnection) -> None:
    try:
        async for message in upstream:
            if isinstance(message, bytes):
                await socket.send_bytes(message)
            else:
                await socket.send_text(message)
    except ConnectionClosed:
        pass
    code = upstream.close_code or 1011
    with contextlib.suppress(Exception):
        await socket.close(
            code=code if _sendable(code) else 1011, reason=upstream.close_reason or ""
        )


def _sendable(code: int) -> bool:
    """Close codes an endpoint may send (RFC 6455 7.4: not 1005, 1006, 1015)."""
    return code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013) or (
        3000 <= code <= 4999
    )
