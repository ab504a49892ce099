"""SessionRecorder: the asyncio glue that tees a live relay session into its recording.

The relay calls the synchronous ``server_to_client``/``client_to_server``/
``control``/``file_chunk``/``chat``/``file_event``/``keyframe``/``video_config``/``video``
methods inline (cheap appends) and
runs :meth:`SessionRecorder.run` as a task. The task ticks the writer in a worker
thread (sealing, writing, fsync never block the event loop), and on a write error
calls ``on_unavailable`` once, probes every ``probe_interval`` and calls
``on_available`` when the disk takes writes again: the relay pauses and resumes
the session from those two callbacks. During an outage records are still kept
in memory up to the writer's ``outage_bytes`` (the data in flight while the
session pauses); beyond that every tee method returns False: the record was *not*
kept and the relay must not forward the data (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from .errors import RecordingUnavailable
from .format import NO_LINK, RecordKind
from .video_format import encode_video_config
from .writer import DEFAULT_MAX_DELAY, RecordingWriter

__all__ = ["REDACTED_KEYS", "SessionRecorder"]

REDACTED_KEYS = frozenset({"customer_name"})
"""Keys dropped from recorded control messages: the name lives in memory only (DESIGN)."""


async def _nothing(*_: Any) -> None:
    return None


class SessionRecorder:
    """Tees one session into a :class:`RecordingWriter`; see the module docstring."""

    def __init__(
        self,
        writer: RecordingWriter,
        clock: Callable[[], datetime],
        *,
        on_unavailable: Callable[[str], Awaitable[None]] = _nothing,
        on_available: Callable[[], Awaitable[None]] = _nothing,
        tick_interval: float = DEFAULT_MAX_DELAY / 2,
        probe_interval: float = 1.0,
    ) -> None:
        self.writer = writer
        self.clock = clock
        self.on_unavailable = on_unavailable
        self.on_available = on_available
        self.tick_interval = tick_interval
        self.probe_interval = probe_interval
        self.final_hash: str | None = None
        self._problem: str | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self.recorded_bytes = 0
        """Payload bytes of every record this recorder kept (for the session's budget)."""

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        consultation_number: str,
        master_key: bytes,
        clock: Callable[[], datetime],
        *,
        segment: int = 1,
        previous_hash: bytes = NO_LINK,
        **options: Any,
    ) -> SessionRecorder:
        """Create the recording file now (raises RecordingUnavailable) and its recorder;
        ``segment`` > 1 continues the segment that ended in ``previous_hash``."""
        writer = RecordingWriter.create(
            path,
            consultation_number,
            master_key,
            clock(),
            segment=segment,
            previous_hash=previous_hash,
        )
        return cls(writer, clock, **options)

    @property
    def available(self) -> bool:
        return self._problem is None

    # -- the tee (synchronous, on the event loop) ------------------------------------------

    def server_to_client(self, channel: int, data: bytes) -> bool:
        """RFB bytes from the applet towards the viewer on ``channel``."""
        return self._record(RecordKind.RFB_SERVER_TO_CLIENT, channel, data)

    def client_to_server(self, channel: int, data: bytes) -> bool:
        """RFB bytes from a viewer towards the applet, after the input gate."""
        return self._record(RecordKind.RFB_CLIENT_TO_SERVER, channel, data)

    def control(self, message: Mapping[str, Any], channel: int = 0) -> bool:
        """A control message (either direction); ``customer_name`` is left out."""
        return self._record(RecordKind.CONTROL, channel, _json(message))

    def file_chunk(self, message: Mapping[str, Any], data: bytes) -> bool:
        """A ``file_chunk`` control message whose base64 ``data`` decoded to ``data``:
        the message without it, then the bytes once, as a FILE_DATA record."""
        head = {k: v for k, v in message.items() if k != "data"}
        if not self.control({**head, "bytes": len(data)}):
            return False
        return self._record(RecordKind.FILE_DATA, 0, data)

    def chat(self, entry: Mapping[str, Any]) -> bool:
        return self._record(RecordKind.CHAT, 0, _json(entry))

    def file_event(self, event: Mapping[str, Any]) -> bool:
        return self._record(RecordKind.FILE_EVENT, 0, _json(event))

    def keyframe(self, channel: int, payload: bytes) -> bool:
        """A keyframe payload of ``channel`` (built with ``encode_keyframe`` by the applet)."""
        try:
            self.writer.keyframe(channel, payload, self.clock())
        except RecordingUnavailable as exc:
            self._trip(str(exc))
            return False
        self.recorded_bytes += len(payload)
        return True

    def video_config(self, channel: int, config: Mapping[str, Any]) -> bool:
        """A browser's ``video_config`` (codec, width, height) for the video on ``channel``.

        Only those three keys are recorded. Raises ValueError if one is missing or
        malformed (the browser broke the protocol: end its link).
        """
        payload = encode_video_config(config)
        write = self.writer.video_config
        return self._guarded(lambda: write(channel, payload, self.clock()), len(payload))

    def video(self, channel: int, payload: bytes) -> bool:
        """One encoded video chunk exactly as on the link: flags ‖ timestamp ‖ chunk bytes.

        A key chunk (flags bit 0) starts a seek point holding the channel's current
        config. Raises ValueError for a payload of 9 bytes or less or over the link's
        4 MiB (the browser broke the protocol).
        """
        write = self.writer.video
        return self._guarded(lambda: write(channel, payload, self.clock()), len(payload))

    def _guarded(self, write: Callable[[], None], size: int) -> bool:
        try:
            write()
        except RecordingUnavailable as exc:
            self._trip(str(exc))
            return False
        self.recorded_bytes += size
        if not self.writer.available:
            self._trip("recording write failed")  # this record is kept (in memory for now)
        return True

    def _record(self, kind: RecordKind, channel: int, payload: bytes) -> bool:
        try:
            self.writer.record(kind, channel, payload, self.clock())
        except RecordingUnavailable as exc:
            self._trip(str(exc))
            return False
        self.recorded_bytes += len(payload)
        if not self.writer.available:
            self._trip("recording write failed")  # this record is kept (in memory for now)
        return True

    def _trip(self, problem: str) -> None:
        if self._problem is None:
            self._problem = problem
            self._wake.set()

    # -- the timer task ----------------------------------------------------------------

    async def run(self) -> None:
        """Tick, report failures, probe and report recovery until :meth:`close`."""
        notified = False
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.tick_interval)
            self._wake.clear()
            if self._closed:
                return
            if self._problem is not None:
                if not notified:
                    notified = True
                    await self.on_unavailable(self._problem)
                if await asyncio.to_thread(self.writer.probe):
                    self._problem, notified = None, False
                    await self.on_available()
                else:
                    await asyncio.sleep(self.probe_interval)
                continue
            now = self.clock()
            if self.writer.flush_due(now):
                try:
                    await asyncio.to_thread(self.writer.tick, now)
                except RecordingUnavailable as exc:
                    self._trip(str(exc))

    async def close(self) -> str:
        """Seal the final chunk; return the final chain hash for the audit trail.

        If the disk still fails (after one more probe), the file is closed without a
        final chunk and RecordingUnavailable is raised: audit that instead.
        """
        self._closed = True
        self._wake.set()
        if self.final_hash is None:
            if not self.writer.available:
                await asyncio.to_thread(self.writer.probe)
            try:
                self.final_hash = await asyncio.to_thread(self.writer.close, self.clock())
            except RecordingUnavailable:
                await asyncio.to_thread(self.writer.abort)
                raise
        return self.final_hash


def _json(message: Mapping[str, Any]) -> bytes:
    kept = {k: v for k, v in message.items() if k not in REDACTED_KEYS}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"), default=str).encode()
