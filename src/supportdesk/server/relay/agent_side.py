"""The agents' side of a session's relay: their viewers (the support program's RFB or a
browser's video) and their console sockets, each served until it closes or the
session ends.

The relay (:mod:`.session_relay`) keeps the session's state, the customer's link and
the fan-out; these functions are what an agent's socket may ask of it: a viewer's
input passes the input gate and is recorded before it reaches the customer; a
console may chat, ask for viewer tickets, switch screens, and, as the session's
owner or a supervisor, end it, cancel files and ask for diagnostics; only the owner
points at a browser's screen and says which codecs the page decodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from supportdesk.domain.session_events import LIVE_STATES, EndReason, SessionState
from supportdesk.link.bounded_json import JsonRefused
from supportdesk.rfb.errors import RemoteProtocolError
from supportdesk.rfb.input_filter import ViewerInputFilter
from supportdesk.server.relay.console_messages import (
    TEAM_REQUESTS,
    ConsoleMessageRefused,
    parse_console_message,
)
from supportdesk.server.relay.direct_websocket import direct_socket
from supportdesk.server.relay.link_rules import LinkKind
from supportdesk.server.relay.video_fanout import VideoViewer, decodable_codecs

if TYPE_CHECKING:
    from supportdesk.server.relay.session_relay import SessionRelay

__all__ = ["TeamRequest", "serve_console", "serve_rfb_viewer", "serve_video_viewer"]

TeamRequest = Callable[[dict[str, Any]], Awaitable[None]]
"""Carries out a console's checked team message (``server/session_handover.py``)."""

log = logging.getLogger(__name__)

VIEWER_MESSAGE_MAX = 2 * 1024 * 1024


async def serve_rfb_viewer(
    relay: SessionRelay, socket: WebSocket, name: str, role: str, view_only: bool, actor: str = ""
) -> None:
    """Serve one noVNC viewer on its own RFB channel of the applet link. Its input
    passes only while ``actor`` may control the session: asked on every message, so a
    hand-over or the customer's refusal takes control away at once."""
    if (
        relay.session.state not in LIVE_STATES
        or relay.applet is None
        or relay.link is not LinkKind.APPLET
    ):
        await socket.close(code=4409, reason="the session is not active")
        return
    viewer = relay.rfb.open(socket, view_only, name, role, direct_socket(socket.scope))
    if viewer is None:
        await socket.close(code=4409, reason="no more viewers in this session")
        return
    channel = viewer.channel
    viewer.actor = actor
    gate = ViewerInputFilter(
        lambda: not view_only and relay.input_allowed() and relay.session.may_control(actor),
        # The extended clipboard sends the text compressed, with a 4-byte header:
        # a little room above the text's limit.
        max_cut_text=relay.info.clipboard_max + 1024,
    )
    await relay.to_applet(
        {"type": "open", "channel": channel, "view_only": view_only, "name": name, "role": role}
    )
    await relay.publish()
    await relay.recording.channel_opened(channel)
    writer = asyncio.create_task(relay.rfb.write(viewer))
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes") or (message.get("text") or "").encode()
            if len(data) > VIEWER_MESSAGE_MAX:
                raise RemoteProtocolError("viewer message too large")
            forward = gate.feed(data)
            # Recorded, then sent to the applet; what cannot be kept ends the stream.
            if forward and not await relay.recording.viewer_data(channel, forward):
                break
    except (RemoteProtocolError, WebSocketDisconnect) as exc:
        log.info("viewer closed: %s", exc, extra={"session": relay.number})
    finally:
        relay.rfb.close(viewer)
        relay.recording.channel_closed(channel)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await relay.to_applet({"type": "close", "channel": channel})
        if not relay.session.is_terminal:
            await relay.publish()


async def serve_video_viewer(
    relay: SessionRelay, socket: WebSocket, name: str, role: str, view_only: bool, actor: str = ""
) -> None:
    """Serve one viewer of a browser's video: the chunks as the browser sent them,
    from a key chunk on; the viewer can only ask for another key chunk."""
    if (
        relay.session.state not in LIVE_STATES
        or relay.applet is None
        or relay.link is not LinkKind.BROWSER
    ):
        await socket.close(code=4409, reason="the session is not active")
        return
    viewer = VideoViewer(socket, name, role, view_only, direct_socket(socket.scope), actor=actor)
    relay.video.add(viewer)
    await relay.publish()
    try:
        await relay.video.serve(viewer)
    finally:
        if not relay.session.is_terminal:
            await relay.publish()


async def serve_console(
    relay: SessionRelay,
    socket: WebSocket,
    name: str,
    actor: str,
    supervisor: bool,
    mint_viewer_ticket: Callable[[], Awaitable[str]],
    team_request: TeamRequest | None = None,
) -> None:
    """Serve one console's control socket. Every message is checked against the
    console schema (``relay/console_messages.py``) before it is recorded or acted on:
    one that is not bounded JSON closes the socket (1007, with the reason), one that
    is not a console message, or not this console's to send, is answered with an
    ``error`` and goes nowhere. Whether the console is the owner's is asked anew for
    every message: a hand-over moves the owner's rights at once."""
    relay.consoles.add(socket)
    try:
        await socket.send_json(relay.state_message())
        for entry in relay.chat[-50:]:
            await socket.send_json(entry)
        while not relay.session.is_terminal:
            received = await socket.receive()
            if received["type"] == "websocket.disconnect":
                break
            data = received.get("text")
            if data is None:
                data = received.get("bytes") or b""
            try:
                message = parse_console_message(data)
                owner = relay.session.agent_id == actor
                _check_allowed(relay, message, may_end=owner or supervisor, owner=owner)
            except JsonRefused as exc:
                log.info("console closed: %s", exc, extra={"session": relay.number})
                with contextlib.suppress(Exception):
                    await socket.close(code=1007, reason=str(exc)[:120])
                break
            except ConsoleMessageRefused as exc:
                await socket.send_json({"type": "error", "detail": str(exc)[:200]})
                continue
            if message["type"] in TEAM_REQUESTS:
                relay.recording.control("console", {**message, "actor": actor})
                if team_request is not None:
                    await team_request(message)
                continue
            await _console_command(relay, socket, message, actor, name, mint_viewer_ticket)
    except WebSocketDisconnect:
        pass
    finally:
        relay.consoles.discard(socket)


def _check_allowed(
    relay: SessionRelay, message: dict[str, Any], *, may_end: bool, owner: bool
) -> None:
    """Refuse what this console may not ask, or what the session has no place for."""
    kind = message["type"]
    if kind in ("end", "file_cancel", "diagnostics_request") and not may_end:
        raise ConsoleMessageRefused(f"{kind}: only the session's agent or a supervisor")
    if kind in ("hand_over", "invite_helper") and not (owner or may_end):
        raise ConsoleMessageRefused(f"{kind}: only the session's agent or a supervisor")
    if kind in ("decoders", "pointer") and not owner:
        raise ConsoleMessageRefused(f"{kind}: only the session's agent")
    if kind == "screen" and message["screen"] >= max(1, len(relay.screens)):
        raise ConsoleMessageRefused("screen: the customer has no such screen")


async def _console_command(
    relay: SessionRelay,
    socket: WebSocket,
    message: dict[str, Any],
    actor: str,
    name: str,
    mint_viewer_ticket: Callable[[], Awaitable[str]],
) -> None:
    """Carry out one checked console message (recorded first, chat as chat)."""
    kind = message["type"]
    if kind != "chat":
        relay.recording.control("console", {**message, "actor": actor})
    if kind == "chat":
        await relay.post_chat("agent", name, message["text"], actor)
    elif kind == "end":
        await relay.end(EndReason.AGENT)
    elif kind == "viewer_ticket":
        await socket.send_json({"type": "viewer_ticket", "ticket": await mint_viewer_ticket()})
    elif kind == "screen":
        await relay.to_applet({"type": "screen", "screen": message["screen"]})
    elif kind in ("file_cancel", "diagnostics_request"):
        await relay.deliver(relay.files.from_console(message, relay.session.granted))
    elif kind == "decoders":
        relay.decoders = decodable_codecs(message)
        if relay.link is LinkKind.BROWSER:
            await relay.to_applet({"type": "codecs", "codecs": relay.decoders})
    elif kind == "pointer":
        await _point(relay, message)


async def _point(relay: SessionRelay, message: dict[str, Any]) -> None:
    """The agent points at the customer's screen: passed to a browser while the
    session is active and not paused (``PointerGate`` checks and limits it)."""
    if relay.link is not LinkKind.BROWSER or relay.session.state is not SessionState.ACTIVE:
        return
    point = None if relay.session.paused else relay.pointer.admit(message, time.monotonic())
    if point is not None:
        await relay.to_applet(point)
