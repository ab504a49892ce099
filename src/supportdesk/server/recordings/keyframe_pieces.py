"""The keyframes the applet sends for the recording, put back together from their pieces.

The applet sends a keyframe on link channel ``KEYFRAME_FLAG | channel`` in pieces
(docs/recording-format.md, K1-K4): the first byte of each piece says whether more
follows (``MORE``) or this is the last (``LAST``). Pure bookkeeping: which RFB
channels are open (only those may start a keyframe) and the pieces so far.
"""

from __future__ import annotations

import logging

from supportdesk.recording.format import MAX_RECORD_PAYLOAD

log = logging.getLogger(__name__)

MORE = 1
LAST = 0


class KeyframePieces:
    """The open RFB channels and, per channel, the keyframe being received."""

    def __init__(self, max_payload: int = MAX_RECORD_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._channels: set[int] = set()
        self._pieces: dict[int, bytearray] = {}

    @property
    def channels(self) -> list[int]:
        """The open channels, in order: each is asked for keyframes."""
        return sorted(self._channels)

    def opened(self, channel: int) -> None:
        self._channels.add(channel)

    def closed(self, channel: int) -> None:
        self._channels.discard(channel)
        self._pieces.pop(channel, None)

    def add(self, channel: int, piece: bytes) -> bytes | None:
        """Take one piece; the whole keyframe once its last piece came, else None.

        A piece for a channel that closed meanwhile is dropped (the keyframe has no
        stream to start), and so is a keyframe that grows beyond one record."""
        if not piece or channel not in self._channels:
            return None
        buffer = self._pieces.setdefault(channel, bytearray())
        buffer += piece[1:]
        if len(buffer) > self.max_payload:
            self._pieces.pop(channel, None)
            log.warning("keyframe of channel %d too large, dropped", channel)
            return None
        if piece[0] == MORE:
            return None
        return bytes(self._pieces.pop(channel))
