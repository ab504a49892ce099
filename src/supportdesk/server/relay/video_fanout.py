"""The video screen channel of a browser link: one encoded stream, fanned out to every viewer.

The customer's browser encodes its screen once (WebCodecs); every agent and supervisor
watching gets the same chunks. A viewer starts at a key chunk, and one that falls
behind by more than ``VIEWER_BACKLOG`` bytes loses what it had queued and waits for
the next key chunk, which is asked for at once: a slow viewer costs itself picture,
never the customer or the other viewers (docs/browser-share.md).

Each chunk's wait is timed for the metrics' viewer lag: 0 when the socket took it at
once, else from the moment it queued to the moment the writer's send returned; a
chunk dropped from a backlog is not timed (it never reached the viewer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from supportdesk.link.bounded_json import JsonRefused, decode_object
from supportdesk.link.frames import VIDEO_CHANNEL, LinkProtocolError
from supportdesk.server.metrics.meters import Kept, Timing
from supportdesk.server.relay.direct_websocket import DirectSocket

__all__ = ["VIDEO_CHANNEL", "VideoFanout", "VideoViewer"]

CHUNK_HEADER = 9
"""flags (1 byte, bit 0: key chunk) and the encoder's timestamp (uint64, µs)."""
KEY_FLAG = 0x01
VIEWER_BACKLOG = 2 * 1024 * 1024
"""Bytes queued for one viewer before it is skipped to the next key chunk."""
KEYFRAME_SPACING = 0.5
"""Seconds between key-chunk requests to the browser, however many viewers ask."""
VIEWER_MESSAGE_MAX = 1024
"""A viewer only ever asks for a key chunk: anything longer is refused."""

_CODEC = re.compile(
    r"^(avc1\.[0-9A-Fa-f]{6}|vp8|vp09\.\d\d\.\d\d\.\d\d(\.[0-9.]+)?|av01\.[0-9A-Za-z.]+)$"
)
MAX_DIMENSION = 8192
MAX_CODECS = 8


def is_key(payload: bytes) -> bool:
    """Whether a video payload (flags ‖ timestamp ‖ chunk) holds a key chunk."""
    return bool(payload[0] & KEY_FLAG)


def check_chunk(payload: bytes) -> None:
    """Refuse a payload too short to carry its header and any data."""
    if len(payload) <= CHUNK_HEADER:
        raise LinkProtocolError("a video chunk needs flags, a timestamp and data")


def valid_codec(codec: object) -> bool:
    """A WebCodecs codec string of the families the relay passes on (H.264, VP8,
    VP9, AV1), short and plain enough to show and record."""
    return isinstance(codec, str) and len(codec) <= 64 and bool(_CODEC.match(codec))


def video_config(message: dict[str, Any]) -> dict[str, Any]:
    """The checked ``video_config`` of a browser (codec, width, height)."""
    codec, width, height = message.get("codec"), message.get("width"), message.get("height")
    if not valid_codec(codec):
        raise LinkProtocolError(f"unsupported video codec {str(codec)[:64]!r}")
    for value in (width, height):
        if not isinstance(value, int) or isinstance(value, bool):
            raise LinkProtocolError("video width and height must be integers")
        if not 16 <= value <= MAX_DIMENSION:
            raise LinkProtocolError(f"video size out of range: {value}")
    return {"codec": codec, "width": width, "height": height}


def decodable_codecs(message: dict[str, Any]) -> list[str]:
    """The codec strings an agent's browser says it decodes, checked and bounded."""
    codecs = message.get("codecs")
    if not isinstance(codecs, list):
        return []
    return [c for c in codecs[:MAX_CODECS] if valid_codec(c)]


@dataclass(eq=False)
class VideoViewer:
    """One agent's or supervisor's video socket."""

    socket: WebSocket
    name: str
    role: str
    view_only: bool
    direct: DirectSocket | None = None
    # What waits for the writer, each with when it queued (time.monotonic()).
    backlog: deque[tuple[bytes | str, float]] = field(default_factory=deque)
    backlog_bytes: int = 0
    needs_key: bool = True
    writing: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    actor: str = ""  # the agent as the audit names it


class VideoFanout:
    """The latest video configuration and the viewers it goes to."""

    def __init__(
        self,
        ask_keyframe: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
        lag: Timing | None = None,
    ) -> None:
        self._ask_keyframe = ask_keyframe
        self._clock = clock
        self._lag = Kept() if lag is None else lag  # seconds a chunk waited for its viewer
        self.config: dict[str, Any] | None = None
        self.viewers: list[VideoViewer] = []
        self._last_ask = -KEYFRAME_SPACING
        self._ask_later: asyncio.TimerHandle | None = None

    # -- from the browser ----------------------------------------------------------------

    def configure(self, config: dict[str, Any]) -> None:
        """A new encoder configuration: every viewer reconfigures and waits for a key."""
        self.config = config
        text = json.dumps({"type": "config", **config})
        for viewer in self.viewers:
            self._drop_backlog(viewer)
            self._send(viewer, text)
            viewer.needs_key = True

    def chunk(self, payload: bytes) -> None:
        """One encoded chunk (recorded already) for every viewer that can use it."""
        key = is_key(payload)
        for viewer in self.viewers:
            if viewer.needs_key and not key:
                continue
            if viewer.backlog_bytes + len(payload) > VIEWER_BACKLOG:
                # Behind by more than it can catch up: start again at the next key.
                self._drop_backlog(viewer)
                viewer.needs_key = True
                self.want_keyframe()
                continue
            viewer.needs_key = False
            self._send(viewer, payload)

    def skip_to_key(self) -> None:
        """A chunk did not reach the viewers (paused, held, not recorded): what follows
        it cannot be decoded, so every viewer waits for the next key chunk."""
        for viewer in self.viewers:
            viewer.needs_key = True

    # -- viewers -------------------------------------------------------------------------

    def add(self, viewer: VideoViewer) -> None:
        self.viewers.append(viewer)
        if self.config is not None:
            self._send(viewer, json.dumps({"type": "config", **self.config}))
        self.want_keyframe()

    def remove(self, viewer: VideoViewer) -> None:
        viewer.closed = True
        viewer.wake.set()
        with contextlib.suppress(ValueError):
            self.viewers.remove(viewer)

    def want_keyframe(self) -> None:
        """Ask the browser for a key chunk, at most every ``KEYFRAME_SPACING`` seconds;
        a request inside the spacing is sent when it has passed."""
        now = self._clock()
        wait = self._last_ask + KEYFRAME_SPACING - now
        if wait <= 0:
            self._last_ask = now
            self._ask_keyframe()
        elif self._ask_later is None:
            loop = asyncio.get_running_loop()
            self._ask_later = loop.call_later(wait, self._ask_now)

    def _ask_now(self) -> None:
        self._ask_later = None
        self.want_keyframe()

    def close(self) -> None:
        if self._ask_later is not None:
            self._ask_later.cancel()
            self._ask_later = None

    async def serve(self, viewer: VideoViewer) -> None:
        """Write the viewer's backlog and read what it asks until its socket closes."""
        writer = asyncio.create_task(self._write(viewer))
        try:
            while True:
                message = await viewer.socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None or len(text) > VIEWER_MESSAGE_MAX:
                    raise LinkProtocolError("a video viewer sends short text messages only")
                try:
                    request = decode_object(text, max_bytes=VIEWER_MESSAGE_MAX)
                except JsonRefused as exc:
                    raise LinkProtocolError(str(exc)) from None
                if request != {"type": "keyframe"}:
                    raise LinkProtocolError("a video viewer may only ask for a key chunk")
                self.want_keyframe()
        except (LinkProtocolError, ValueError) as exc:
            with contextlib.suppress(Exception):
                await viewer.socket.close(code=4400, reason=str(exc)[:120])
        except WebSocketDisconnect:
            pass
        finally:
            self.remove(viewer)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    # -- sending -------------------------------------------------------------------------

    def _send(self, viewer: VideoViewer, item: bytes | str) -> None:
        # The usual chunk goes out on the reading callback; behind anything waiting,
        # or to a socket that would block, it queues for the viewer's writer.
        if (
            isinstance(item, bytes)
            and not viewer.backlog
            and not viewer.writing
            and viewer.direct is not None
            and viewer.direct.send_now(item)
        ):
            self._lag.observe(0.0)
            return
        viewer.backlog.append((item, time.monotonic()))
        viewer.backlog_bytes += len(item)
        viewer.wake.set()

    def _drop_backlog(self, viewer: VideoViewer) -> None:
        viewer.backlog = deque(i for i in viewer.backlog if isinstance(i[0], str))
        viewer.backlog_bytes = sum(len(i[0]) for i in viewer.backlog)

    async def _write(self, viewer: VideoViewer) -> None:
        while not viewer.closed:
            await viewer.wake.wait()
            viewer.wake.clear()
            while viewer.backlog:
                item, queued_at = viewer.backlog.popleft()
                viewer.backlog_bytes -= len(item)
                viewer.writing = True
                try:
                    if isinstance(item, bytes):
                        await viewer.socket.send_bytes(item)
                        self._lag.observe(time.monotonic() - queued_at)
                    else:
                        await viewer.socket.send_text(item)
                except Exception:  # the viewer went away; serve() cleans up
                    return
                finally:
                    viewer.writing = False
