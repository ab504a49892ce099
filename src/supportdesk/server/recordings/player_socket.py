"""The auditor's player socket: a recorded screen channel, paced, with play, pause, speed and seek.

One WebSocket per opened player, authenticated on the upgrade like the live sockets
(allowed Origin, one-time ticket of purpose ``player``, the agent may still play
recordings). For an RFB channel the binary messages to the browser are the RFB
stream of a :class:`PlayerFeed` (the handshake as its own message, then updates
paced by the :class:`PlaybackClock`); the page hands them to a fresh noVNC per
feed. For a video channel (a browser's screen) they are the recorded chunks of a
:class:`VideoFeed`, with its ``config`` and ``paint_from`` text messages; the page
decodes them with VideoDecoder. ``start`` says which (``"video": true``). Text
messages are JSON: the page sends ``{"type": "play" | "pause"}``,
``{"type": "speed", "speed": 4}`` and ``{"type": "seek", "at_us": t}``; the server
answers with ``start`` (a new feed: the page starts a new noVNC), ``state``,
``caught_up`` (everything up to the position has been sent), ``end``, and
``damaged`` (a chunk failed its check: playback stops there). What
noVNC sends is read and ignored: nothing reaches a live session.

A recording in several segments (the session moved to another node when its
server died) plays as one: positions are on the whole timeline
(:class:`SegmentedRecording`), and when one segment's feed runs out the next
segment's feed follows with its own ``start`` (a fresh noVNC: each segment's
screen is a stream of its own) once playback reaches that segment's start; the
gap between them shows the last picture, and the timeline marks it. Every state
message carries ``segment``, the segment shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from supportdesk.config import ConfigError
from supportdesk.domain.agent_accounts import Permission, may
from supportdesk.link.bounded_json import JsonRefused, decode_object
from supportdesk.recording import FeedMessage, PlayerFeed, RecordingError
from supportdesk.recording.playback_clock import PlaybackClock
from supportdesk.recording.segmented import SegmentedRecording
from supportdesk.recording.video_feed import VideoFeed
from supportdesk.recording_archive import RecordingArchive, RecordingGone
from supportdesk.server.agents.sockets import agent_for_socket, while_signed_in
from supportdesk.server.state import desk_of
from supportdesk.store.recordings import UnknownRecording

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

PLAYER = "player"
COMMAND_MAX = 1024
"""Bytes of one player command (seek, play, pause, speed): a few dozen in fact."""
_CLOSED = object()


@dataclass(frozen=True, slots=True)
class SegmentStart:
    """In the stream of feed messages: the next segment's feed begins at ``at_us``."""

    at_us: int
    segment: int


Item = FeedMessage | SegmentStart


def feed_items(
    recording: SegmentedRecording, channel: int, video: bool, start_us: int
) -> Iterator[Item]:
    """The feed messages of every segment from ``start_us`` on, stamped on the whole
    timeline, with a :class:`SegmentStart` before each later segment's. File work:
    call ``next`` in a thread."""
    first = recording.locate(start_us)
    for position in range(first, len(recording.readers)):
        reader, span = recording.readers[position], recording.spans[position]
        chosen = recording.channel_in(position, channel, video)
        if chosen is None:
            continue  # no screen of this kind in this segment
        local = max(0, start_us - span.offset_us) if position == first else 0
        feed: PlayerFeed | VideoFeed = (
            VideoFeed(reader, chosen, local) if video else PlayerFeed(reader, chosen, local)
        )
        if position != first:
            yield SegmentStart(span.offset_us, span.segment)
        for message in feed.messages():
            yield FeedMessage(message.at_us + span.offset_us, message.data)


class PlayerSession:
    """Drives one socket: feeds, pacing and the page's commands."""

    def __init__(self, socket: WebSocket, recording: SegmentedRecording, channel: int) -> None:
        self.socket = socket
        self.recording = recording
        self.channel = channel
        self.video = recording.is_video(channel)
        self.speed = 1
        self.paused = False
        self.segment = 1
        self.commands: asyncio.Queue[object] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()

    def _now(self) -> float:
        return self._loop.time()

    async def run(self, start_us: int) -> None:
        receiver = asyncio.create_task(self._receive())
        try:
            at: int | None = start_us
            while at is not None:
                at = await self._play_from(at)
        except (WebSocketDisconnect, OSError):
            pass  # the page went away
        except RecordingError as exc:
            # A damaged chunk (ChunkInvalid) or an unplayable channel: say so and stop.
            log.warning("playback stopped: %s", exc)
            with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
                await self.socket.send_text(json.dumps({"type": "damaged", "detail": str(exc)}))
                await self.socket.close(code=4500, reason="recording damaged")
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver

    async def _receive(self) -> None:
        try:
            while True:
                message = await self.socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    continue  # noVNC's RFB messages: a recording takes no input
                try:
                    command = decode_object(text, max_bytes=COMMAND_MAX)
                except JsonRefused:
                    continue  # not a command: the player ignores it, as noVNC's input
                await self.commands.put(command)
        finally:
            await self.commands.put(_CLOSED)

    async def _play_from(self, start_us: int) -> int | None:
        """Play one feed; returns where to seek to, or None when the socket closed."""
        start_us = max(0, min(start_us, self.recording.duration_us))
        self.segment = self.recording.spans[self.recording.locate(start_us)].segment
        items = feed_items(self.recording, self.channel, self.video, start_us)
        clock = PlaybackClock(start_us, self._now(), self.speed, paused=self.paused)
        await self._send_json("start", clock)
        pending = await self._next(items)
        report_caught_up = True
        ended = False
        while True:
            wait: float | None = None
            if pending is not None:
                wait = clock.wait_for(pending.at_us, self._now())
                if wait == 0.0:
                    if isinstance(pending, SegmentStart):
                        self.segment = pending.segment
                        await self._send_json("start", clock)
                    elif isinstance(pending.data, str):
                        await self.socket.send_text(pending.data)
                    else:
                        await self.socket.send_bytes(pending.data)
                    pending = await self._next(items)
                    continue
            if pending is None and not ended:
                # The end of the recording: stay there, paused, until told otherwise.
                clock.pause(self._now())
                self.paused = ended = True
                await self._send_json("end", clock)
            elif pending is not None and report_caught_up:
                await self._send_json("caught_up", clock)
            report_caught_up = False
            command = await self._command(wait)
            if command is None:
                continue  # the next message is due
            if command is _CLOSED:
                return None
            assert isinstance(command, dict)
            kind = command.get("type")
            now = self._now()
            if kind == "seek":
                return _int(command.get("at_us"), clock.position_us(now))
            if kind == "pause":
                clock.pause(now)
                self.paused = True
                report_caught_up = True
            elif kind == "play":
                if pending is None:  # at the end: play again from the start
                    self.paused = False
                    return 0
                clock.play(now)
                self.paused = False
            elif kind == "speed":
                try:
                    clock.set_speed(_int(command.get("speed"), 0), now)
                except ValueError:
                    continue
                self.speed = clock.speed
            else:
                continue
            await self._send_json("state", clock)

    async def _command(self, within: float | None) -> object | None:
        try:
            return await asyncio.wait_for(self.commands.get(), within)
        except TimeoutError:
            return None

    async def _next(self, items: Iterator[Item]) -> Item | None:
        # Reading and decrypting chunks is file work: off the event loop.
        return await asyncio.to_thread(next, items, None)

    async def _send_json(self, kind: str, clock: PlaybackClock) -> None:
        await self.socket.send_text(
            json.dumps(
                {
                    "type": kind,
                    "at_us": clock.position_us(self._now()),
                    "speed": clock.speed,
                    "paused": clock.paused,
                    "duration_us": self.recording.duration_us,
                    "video": self.video,
                    "segment": self.segment,
                }
            )
        )


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@router.websocket("/ws/player/{number}")
async def player_socket(socket: WebSocket, number: str) -> None:
    desk = desk_of(socket)
    agent, login = await agent_for_socket(socket, number, PLAYER)
    if agent is None or login is None or not may(agent.role, Permission.PLAY_RECORDINGS):
        await socket.close(code=4401, reason="not allowed")
        return
    archive = RecordingArchive.from_settings(desk.settings, desk.sessions, desk.audit)
    try:
        entry = await archive.readable(number)
        recording = await asyncio.to_thread(archive.open_recording, entry)
    except (UnknownRecording, RecordingGone, RecordingError, ConfigError) as exc:
        log.warning("player for %s refused: %s", number, exc)
        await socket.close(code=4404, reason="recording not available")
        return
    try:
        channel = _int_param(socket.query_params.get("channel")) or recording.first_channel()
        if channel is None:
            await socket.close(code=4404, reason="no screen in this recording")
            return
        await socket.accept()
        start = _int_param(socket.query_params.get("t")) or 0
        async with while_signed_in(desk, socket, login):
            await PlayerSession(socket, recording, channel).run(start)
    finally:
        recording.close()


def _int_param(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None
