"""What a session records before its recording file exists, and how any record is written.

The customer consents, the session goes live, and the file is created a moment later
(or, when the disk refuses, only after retries). Meanwhile the records wait here in
order, bounded: the applet pauses at once, so this holds RFB handshakes, frames in
flight within their credit, and messages. When the file exists they are written in
the order they came; the RFB bytes then go where they were going (the applet's to
the viewers with the hold's release, the viewers' to the applet).

:func:`write_record` is the one place that knows which recorder method takes which
kind of record, for the waiting ones and the live ones alike.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from supportdesk.recording import SessionRecorder
from supportdesk.recording.format import RFB_KINDS, RecordKind

PENDING_LIMIT = 4 * 1024 * 1024
"""Bytes kept in memory while the file cannot be created."""


def write_record(recorder: SessionRecorder, kind: RecordKind, channel: int, item: Any) -> bool:
    """Write one record; False if the recorder did not keep it."""
    if kind is RecordKind.RFB_SERVER_TO_CLIENT:
        return recorder.server_to_client(channel, item)
    if kind is RecordKind.RFB_CLIENT_TO_SERVER:
        return recorder.client_to_server(channel, item)
    if kind is RecordKind.CONTROL:
        chunk = file_chunk_data(item)
        return recorder.control(item) if chunk is None else recorder.file_chunk(item, chunk)
    if kind is RecordKind.CHAT:
        return recorder.chat(item)
    if kind is RecordKind.VIDEO_CONFIG:
        return recorder.video_config(channel, item)
    return recorder.file_event(item)


def file_chunk_data(message: dict[str, Any]) -> bytes | None:
    """The bytes a ``file_chunk`` carries, decoded, to be recorded once and as they are
    (FILE_DATA) instead of a third larger inside the message; None for any other
    message, or a chunk whose ``data`` is not base64 (recorded as it came)."""
    data = message.get("data")
    if message.get("type") != "file_chunk" or not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass
class Written:
    """The RFB bytes among the records just written, to send on now."""

    to_viewers: list[tuple[int, bytes]] = field(default_factory=list)
    to_applet: list[tuple[int, bytes]] = field(default_factory=list)


class PendingRecords:
    """Records waiting for the file, in order, at most ``limit`` bytes."""

    def __init__(self, limit: int = PENDING_LIMIT) -> None:
        self.limit = limit
        self._items: list[tuple[RecordKind, int, Any]] = []
        self._bytes = 0
        self.rfb_bytes = 0
        """RFB bytes that ever waited here (counted against the budget on arrival)."""

    def __bool__(self) -> bool:
        return bool(self._items)

    def keep(self, kind: RecordKind, channel: int, item: Any, size: int) -> bool:
        """Queue one record; False if there is no room."""
        if self._bytes + size > self.limit:
            return False
        self._items.append((kind, channel, item))
        self._bytes += size
        if kind in RFB_KINDS:
            self.rfb_bytes += size
        return True

    def write_to(self, recorder: SessionRecorder) -> Written:
        """Write everything waiting, in order, and empty the queue."""
        items, self._items, self._bytes = self._items, [], 0
        written = Written()
        for kind, channel, item in items:
            write_record(recorder, kind, channel, item)
            if kind is RecordKind.RFB_SERVER_TO_CLIENT:
                written.to_viewers.append((channel, item))
            elif kind is RecordKind.RFB_CLIENT_TO_SERVER:
                written.to_applet.append((channel, item))
        return written
