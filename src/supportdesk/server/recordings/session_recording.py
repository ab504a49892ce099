"""The recording of one live session as the relay runs it: start, tee, keyframes, hold, finish.

The relay hands every byte and message to a :class:`SessionRecording` before it
forwards anything, and forwards only what the recording kept (fail closed). The
recording file is created when the customer consents, registered in the
``recordings`` table and, at the end, closed with its final hash written into the
audit trail (``recording_finished``, or ``recording_failed`` with the reason) in the
same unit of work as the table's ``finish``.

A node that takes a session over (its server died) simply constructs a new
``SessionRecording`` and calls :meth:`SessionRecording.start`: the recording then
continues in the next segment, chained to the last (:mod:`.segments`).

While the recording cannot be written (disk full, permissions; or the file could
not even be created), the session is *held* (``RecordingHalted``): the applet stops
capturing, the input gate closes, and the applet's RFB bytes still in flight are
recorded and held back here instead of reaching a viewer. When the disk takes
writes again the held bytes go out, then ``RecordingRestored`` lifts the hold.

Limits (``[recording]`` in the settings, :mod:`supportdesk.recording.budget`): a
session records at most ``session_quota_mb`` and, sustained, ``max_mb_per_second``.
Everything recorded counts; what the customer's link, a viewer or a console sends
is refused once the quota is reached (the relay's own messages, the end among them,
are still kept, so the recording closes cleanly and verifies), and the session ends
with reason ``recording_limit``, audited as ``recording_limit_reached``. The rate
refuses nothing: :meth:`SessionRecording.rate_wait` tells the relay how long to stop
reading the customer's link, so a flood slows its own session and no other; the
first time in a session is audited as ``recording_rate_limited``.

Keyframes (docs/recording-format.md, K1-K4): each RFB channel is asked for one when
it opens (the applet answers after its first update) and every
``keyframe_interval`` seconds. The applet sends it in pieces (:mod:`.keyframe_pieces`);
it goes into the recording only, never to a viewer. A browser's video channel is asked
for a key chunk when it opens and then by :mod:`.seek_points` (after so many chunks
since the last key chunk, checked every ``seek_tick`` seconds). What arrives before the
file exists waits in :mod:`.pending_records`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.session_actors import SYSTEM_ACTOR
from supportdesk.domain.session_events import (
    EndReason,
    RecordingHalted,
    RecordingRestored,
    SessionError,
)
from supportdesk.i18n import N_, translations
from supportdesk.link.frames import KEYFRAME_FLAG, VIDEO_CHANNEL, encode_frame
from supportdesk.recording import RecordingError, RecordingUnavailable, SessionRecorder
from supportdesk.recording.format import RFB_KINDS, RecordKind
from supportdesk.recording.video_format import is_key_chunk
from supportdesk.server.recordings.keyframe_pieces import KeyframePieces
from supportdesk.server.recordings.pending_records import PendingRecords, write_record
from supportdesk.server.recordings.place import RecordingPlace
from supportdesk.server.recordings.recording_meter import RecordingMeter
from supportdesk.server.recordings.seek_points import SeekPoints
from supportdesk.server.recordings.segments import (
    finish_segment,
    free_name,
    next_segment,
    register_segment,
)
from supportdesk.server.remote_support import RemoteSupport

log = logging.getLogger(__name__)


class Take(enum.Enum):
    """What becomes of a frame from the applet once the recording has seen it."""

    FORWARD = "forward"  # recorded: send it to its viewer now
    KEPT = "kept"  # recorded and held, a keyframe piece, or after the end: nothing to send
    REFUSED = "refused"  # over the session's quota: not recorded, not sent; the session ends
    CLOSE_VIEWER = "close viewer"  # could not be kept: the viewer's stream must end


HELD_NOTICE = N_("Recording not possible – session paused")


def held_notice(language: str = "de") -> str:
    """Why the session is held, for the console and the applet (German first)."""
    return translations(language).gettext(HELD_NOTICE)


class RecordedRelay(Protocol):
    """What the recording needs of the relay it tees; ``SessionRelay`` is one. A
    protocol, so the relay imports the recording and not the other way round."""

    number: str
    remote: RemoteSupport

    def state_message(self) -> dict[str, Any]: ...

    def has_viewer(self, channel: int) -> bool: ...

    def to_viewer(self, channel: int, payload: bytes) -> None: ...

    async def drop_viewer(self, channel: int, reason: str) -> None: ...

    async def send_applet_bytes(self, data: bytes) -> None: ...

    async def to_applet(self, message: dict[str, Any]) -> None: ...

    async def end(self, reason: EndReason) -> None: ...


class SessionRecording:
    """Tees one :class:`SessionRelay` into its recording; see the module docstring."""

    def __init__(self, relay: RecordedRelay, place: RecordingPlace) -> None:
        self.relay = relay
        self.place = place
        self.number = relay.number
        self.recorder: SessionRecorder | None = None
        self.path: Path | None = None
        self.segment = 1
        """The segment this node records (> 1 after a takeover)."""
        self.problem: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._run: asyncio.Task[None] | None = None
        self._keyframes = KeyframePieces()
        self._video: SeekPoints | None = None  # a browser's video channel, once opened
        self._held: list[tuple[int, bytes]] = []
        self._pending = PendingRecords()
        self._holding = False
        self._started = False
        self._finished = False
        self.meter = RecordingMeter(
            place.limits,
            place.monotonic,
            on_rate=lambda data: self._spawn(self._audit("recording_rate_limited", data)),
            on_quota=lambda used: self._spawn(self._end_at_quota(used)),
            tally=place.recorded.inc,
        )

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Create the recording (the customer just consented); hold the session if that
        fails, and keep trying until it works or the session ends."""
        if self._started or self._finished:
            return
        self._started = True
        if await self._create():
            await self._release_waiting()
        else:
            await self._hold(self.problem or "recording unavailable")
            self._spawn(self._retry_creation())
        self._spawn(self._keyframe_timer())
        self._spawn(self._seek_point_timer())

    async def _release_waiting(self) -> None:
        # The session went live before the file existed: a viewer that opened meanwhile
        # gets the applet's bytes kept for it, and its keyframe request now (it was
        # skipped while nothing could be recorded; the next tick may be 10 s away).
        self._deliver_held()
        await self._ask_keyframes()

    async def _create(self) -> bool:
        place, now = self.place, self.place.clock()
        try:
            try:
                place.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RecordingUnavailable(
                    f"cannot create recording folder {place.directory}: {exc.strerror}"
                ) from exc
            # A takeover: the session was recorded on a node that died, or handed over.
            segment = await next_segment(
                place.audit, place.directory, place.master_key, self.number, now
            )
            path = free_name(place.directory, self.number, segment.segment)
            recorder = SessionRecorder.create(
                path,
                self.number,
                place.master_key,
                place.clock,
                segment=segment.segment,
                previous_hash=segment.previous_hash,
                on_unavailable=self._hold,
                on_available=self._release,
                probe_interval=place.probe_interval,
            )
        except (OSError, RecordingError) as exc:
            self.problem = str(exc)
            log.warning("cannot create the recording: %s", exc, extra={"session": self.number})
            return False
        except Exception as exc:  # the register could not be read: try again later
            self.problem = f"cannot read the register of recordings: {exc}"
            log.exception("cannot prepare the recording", extra={"session": self.number})
            return False
        try:
            await register_segment(place.audit, self.number, segment, path, now)
        except Exception as exc:  # the register is part of "recorded": no row, no session
            with contextlib.suppress(RecordingError):
                await recorder.close()
            self.problem = f"cannot register the recording: {exc}"
            log.exception("cannot register the recording", extra={"session": self.number})
            return False
        # The recording opens with the session's state: consent given, and what it granted.
        recorder.control({"from": "relay", **self.relay.state_message()})
        await self._catch_up(recorder)
        # The RFB bytes were counted as they came; the rest is counted now.
        self.meter.file_opened(recorder.recorded_bytes, self._pending.rfb_bytes)
        self.recorder, self.path, self.problem = recorder, path, None
        self.segment = segment.segment
        self._run = asyncio.create_task(recorder.run())
        return True

    async def _catch_up(self, recorder: SessionRecorder) -> None:
        # What arrived while there was no file, in order; the RFB bytes for a viewer
        # join the held ones (released with the hold), the viewers' bytes go to the
        # applet now. Arrivals meanwhile still queue: self.recorder is set after.
        while self._pending:
            written = self._pending.write_to(recorder)
            self._held += written.to_viewers
            for channel, data in written.to_applet:
                await self.relay.send_applet_bytes(encode_frame(channel, data))

    def _keep_pending(self, kind: RecordKind, channel: int, item: Any, size: int) -> bool:
        """Queue what arrives before the file exists (bounded); False if there is no room."""
        if not self._started or self._finished or not self._pending.keep(kind, channel, item, size):
            return False
        if kind in RFB_KINDS:
            self.meter.count(size)  # exact; the file counts the rest when it catches up
        return True

    async def _retry_creation(self) -> None:
        while not self._finished:
            await asyncio.sleep(self.place.retry_interval)
            if await self._create():
                await self._release()
                return

    async def finish(self) -> None:
        """The session is over: close the recording, write the final hash (or the failure)
        into the audit trail together with the register's ``finish``."""
        if self._finished:
            return
        self._finished = True
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        recorder, path, now = self.recorder, self.path, self.place.clock()
        if recorder is None or path is None:
            if self._started:
                await self._audit_failure(now, self.problem or "no recording", None)
            return  # (a session that never went live has nothing to record)
        try:
            final_hash = await recorder.close()
        except (RecordingError, OSError) as exc:
            await self._audit_failure(now, str(exc), path.name)
            return
        finally:
            if self._run is not None and self._run is not asyncio.current_task():
                with contextlib.suppress(Exception):
                    await self._run
        await finish_segment(self.place.audit, self.number, self.segment, final_hash, path, now)

    async def _audit_failure(self, now: datetime, reason: str, file: str | None) -> None:
        log.error("recording failed: %s", reason, extra={"session": self.number})
        data: dict[str, Any] = {"reason": reason[:500]}
        if file is not None:
            data["file"] = file
        await self.place.audit.record(
            AuditRecord(now, "recording_failed", SYSTEM_ACTOR, self.number, data)
        )

    def _spawn(self, work: Any) -> None:
        self._tasks.append(asyncio.create_task(work))

    # -- fail closed ---------------------------------------------------------------------

    @property
    def forwarding(self) -> bool:
        """True while bytes for the viewers may go out (recorded, not held)."""
        recorder = self.recorder
        return recorder is not None and recorder.available and not self._holding

    async def _hold(self, problem: str) -> None:
        self._holding = True
        with contextlib.suppress(KeyError, SessionError):
            await self.relay.remote.apply(
                self.number, RecordingHalted(self.place.clock(), problem[:500])
            )

    async def _release(self) -> None:
        # What the applet sent before it paused is recorded by now: it goes out first,
        # then the hold lifts and new frames follow.
        self._holding = False
        self._deliver_held()
        with contextlib.suppress(KeyError, SessionError):
            await self.relay.remote.apply(self.number, RecordingRestored(self.place.clock()))
        await self._ask_keyframes()  # a fresh starting point after the gap

    def _deliver_held(self) -> None:
        held, self._held = self._held, []
        for channel, data in held:
            if self.relay.has_viewer(channel):
                self.relay.to_viewer(channel, data)

    # -- the tee -------------------------------------------------------------------------

    def take_applet_data(self, channel: int, payload: bytes) -> Take:
        """A non-control frame from the applet, recorded (or held, or dropped) now;
        the verdict says what the relay does next. Never waits: the relay calls it on
        the link's reading callback."""
        if self._finished:
            return Take.KEPT
        if not self._admits():
            return Take.REFUSED
        if channel & KEYFRAME_FLAG:
            self._keyframe_piece(channel & ~KEYFRAME_FLAG, payload)
            return Take.KEPT
        recorder = self.recorder
        if recorder is None:
            kind = RecordKind.RFB_SERVER_TO_CLIENT
            if not self._keep_pending(kind, channel, payload, len(payload)):
                return Take.CLOSE_VIEWER
            return Take.KEPT
        kept = recorder.server_to_client(channel, payload)
        self._counted()
        if not kept:
            # Not recorded, so never shown; a gap cannot be decoded: the viewer reconnects.
            return Take.CLOSE_VIEWER
        if not self.forwarding:
            self._held.append((channel, payload))
            return Take.KEPT
        return Take.FORWARD

    async def close_viewer(self, channel: int) -> None:
        """End a viewer's stream after a frame for it could not be recorded."""
        if self.relay.has_viewer(channel):
            log.warning("applet bytes not recorded: channel %d ends", channel)
            await self.relay.drop_viewer(channel, "recording gap")

    async def viewer_data(self, channel: int, data: bytes) -> bool:
        """Viewer bytes after the input gate: recorded, then sent to the applet. False if
        they could not be kept: the viewer's stream must end (a gap cannot be parsed)."""
        if self._finished or not self._admits():
            return False
        recorder = self.recorder
        if recorder is None:
            kind = RecordKind.RFB_CLIENT_TO_SERVER
            return self._keep_pending(kind, channel, data, len(data))
        kept = recorder.client_to_server(channel, data)
        self._counted()
        if not kept:
            log.warning("viewer bytes not recorded: channel %d ends", channel)
            return False
        await self.relay.send_applet_bytes(encode_frame(channel, data))
        return True

    def take_video(self, payload: bytes) -> Take:
        """A browser's video chunk: FORWARD once recorded and not held. A chunk that
        could not be kept holds the session; the hold's end asks for a key chunk."""
        recorder = self.recorder
        if self._finished or recorder is None:
            return Take.KEPT  # held until the file exists: the browser pauses
        if not self._admits():
            return Take.REFUSED
        kept = recorder.video(VIDEO_CHANNEL, payload)
        self._counted()
        if not kept:
            return Take.KEPT
        if self._video is None:  # a node that took the session over: from its first chunk
            self._video = SeekPoints(self.place.seek_points, self.place.monotonic())
        self._video.chunk(is_key_chunk(payload), self.place.monotonic())
        return Take.FORWARD if self.forwarding else Take.KEPT

    def video_config(self, config: dict[str, Any]) -> bool:
        """The browser's encoder configuration, which every seek point repeats."""
        if self._finished or not self._admits():
            return False
        recorder = self.recorder
        if recorder is None:
            return self._keep_pending(RecordKind.VIDEO_CONFIG, VIDEO_CHANNEL, config, 256)
        kept = recorder.video_config(VIDEO_CHANNEL, config)
        self._counted()
        return kept

    def control(self, source: str, message: dict[str, Any]) -> bool:
        """A control message (``source``: applet, relay or console); True if recorded.
        The relay's own are kept over the quota: the end of the session among them."""
        # ``from`` last: a party's message cannot pass itself off as the relay's.
        return self._event(RecordKind.CONTROL, {**message, "from": source}, source != "relay")

    def chat(self, entry: dict[str, Any]) -> bool:
        """A chat line; True if it may be delivered: recorded (or queued for the file
        that could not be created yet), or said before consent, when nothing is recorded."""
        if not self._started:
            return True
        return self._event(RecordKind.CHAT, entry)

    def file_event(self, event: dict[str, Any]) -> bool:
        return self._event(RecordKind.FILE_EVENT, event, outside=False)  # the relay's account

    def _event(self, kind: RecordKind, item: dict[str, Any], outside: bool = True) -> bool:
        if self._finished or (outside and not self._admits()):
            return False
        recorder = self.recorder
        if recorder is None:
            return self._keep_pending(kind, 0, item, 256)
        kept = write_record(recorder, kind, 0, item)
        self._counted()
        return kept

    # -- limits --------------------------------------------------------------------------

    def rate_wait(self) -> float:
        """Seconds the relay should stop reading the customer's link: the session wrote
        faster than its byte rate (0.0 if not)."""
        return self.meter.wait()

    def _admits(self) -> bool:
        """Whether a record from outside may be made; at the quota the session ends."""
        return self.meter.admits()

    def _counted(self) -> None:
        """Count what the recorder kept since the last call."""
        if self.recorder is not None:
            self.meter.sync(self.recorder.recorded_bytes)

    async def _end_at_quota(self, used: int) -> None:
        quota = self.place.limits.quota_bytes
        log.warning("recording quota of %d bytes reached", quota, extra={"session": self.number})
        await self._audit("recording_limit_reached", {"quota_bytes": quota, "bytes": used})
        await self.relay.end(EndReason.RECORDING_LIMIT)

    async def _audit(self, event_type: str, data: dict[str, Any]) -> None:
        record = AuditRecord(self.place.clock(), event_type, SYSTEM_ACTOR, self.number, data)
        await self.place.audit.record(record)

    # -- keyframes -----------------------------------------------------------------------

    async def channel_opened(self, channel: int) -> None:
        self._keyframes.opened(channel)
        await self._ask_keyframe(channel)

    def channel_closed(self, channel: int) -> None:
        self._keyframes.closed(channel)

    async def video_opened(self) -> None:
        """A browser's video channel: a key chunk now, then seek points by its chunks."""
        if self._video is None:
            self._video = SeekPoints(self.place.seek_points, self.place.monotonic())
        await self._ask_keyframe(VIDEO_CHANNEL)

    async def _ask_keyframes(self) -> None:
        for channel in self._keyframes.channels:
            await self._ask_keyframe(channel)
        if self._video is not None:
            await self._ask_keyframe(VIDEO_CHANNEL)

    async def _ask_keyframe(self, channel: int) -> None:
        if self.forwarding:
            await self.relay.to_applet({"type": "keyframe", "channel": channel})

    async def _keyframe_timer(self) -> None:
        while not self._finished:
            await asyncio.sleep(self.place.keyframe_interval)
            for channel in self._keyframes.channels:
                await self._ask_keyframe(channel)

    async def _seek_point_timer(self) -> None:
        while not self._finished:
            await asyncio.sleep(self.place.seek_tick)
            video, now = self._video, self.place.monotonic()
            if video is not None and self.forwarding and video.due(now):
                video.asked(now)
                await self._ask_keyframe(VIDEO_CHANNEL)

    def _keyframe_piece(self, channel: int, piece: bytes) -> None:
        payload = self._keyframes.add(channel, piece)
        recorder = self.recorder
        if payload is not None and recorder is not None and not self._finished:
            recorder.keyframe(channel, payload)
            self._counted()
