"""The seek index of a recording: time -> chunk, keyframes and channel starts per channel.

Video channels (a browser's screen) are indexed as RFB channels are: their key
chunks are keyframes, and their chunks carry the VIDEO flag so that telling a video
channel from an RFB one needs no decryption either.

Built from chunk headers alone (plaintext, authenticated later when a chunk is
opened), so it costs one small read per chunk and no decryption. Lookups are
binary searches: finding where to start playing at time ``t`` touches no chunk body.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from .format import CHUNK_HEADER_SIZE, NO_CHANNEL, ChunkFlags, ChunkHeader

__all__ = ["ChunkEntry", "RecordingIndex"]


@dataclass(frozen=True, slots=True)
class ChunkEntry:
    """Where one chunk lives in the file, and its header."""

    offset: int
    header: ChunkHeader

    @property
    def sequence(self) -> int:
        return self.header.sequence

    @property
    def body_offset(self) -> int:
        return self.offset + CHUNK_HEADER_SIZE

    @property
    def end(self) -> int:
        return self.body_offset + self.header.body_length


class RecordingIndex:
    """Answers 'which chunk' questions for a list of chunks in file order."""

    def __init__(self, entries: Iterable[ChunkEntry]) -> None:
        self.entries: list[ChunkEntry] = list(entries)
        self._last_us: list[int] = []
        self._keyframes: dict[int, list[tuple[int, int]]] = {}
        self.channel_starts: dict[int, int] = {}
        self.event_chunks: list[int] = []
        self.video_channels: set[int] = set()
        """Screen channels whose chunks are encoded video, not RFB."""
        latest = 0
        for position, entry in enumerate(self.entries):
            h = entry.header
            # Records are non-decreasing in time; keep the running maximum so an
            # empty chunk (first = last = 0) does not break the binary search.
            latest = max(latest, h.last_us)
            self._last_us.append(latest)
            if h.flags & ChunkFlags.KEYFRAME:
                self._keyframes.setdefault(h.channel, []).append((h.first_us, position))
            if h.flags & ChunkFlags.CHANNEL_START:
                self.channel_starts.setdefault(h.channel, position)
            if h.flags & ChunkFlags.EVENTS:
                self.event_chunks.append(position)
            if h.flags & ChunkFlags.VIDEO and h.channel != NO_CHANNEL:
                self.video_channels.add(h.channel)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def duration_us(self) -> int:
        return self._last_us[-1] if self._last_us else 0

    @property
    def closed_cleanly(self) -> bool:
        return bool(self.entries) and bool(self.entries[-1].header.flags & ChunkFlags.FINAL)

    def is_video(self, channel: int) -> bool:
        return channel in self.video_channels

    @property
    def channels(self) -> list[int]:
        """Screen channels (RFB server-to-client data or video), in order of appearance."""
        return sorted(self.channel_starts, key=self.channel_starts.__getitem__)

    def first_chunk_at(self, at_us: int) -> int:
        """Position of the first chunk that may hold records at or after ``at_us``."""
        return bisect.bisect_left(self._last_us, at_us)

    def keyframes(self, channel: int) -> list[int]:
        """Times (µs) of the keyframes of ``channel``."""
        return [t for t, _ in self._keyframes.get(channel, [])]

    def keyframe_chunks(self, channel: int) -> list[int]:
        """Positions of the chunks with keyframes of ``channel``, in order."""
        return [position for _, position in self._keyframes.get(channel, [])]

    def first_keyframe(self, channel: int) -> int | None:
        """Position of the chunk with the first keyframe of ``channel``, if any."""
        frames = self._keyframes.get(channel)
        return frames[0][1] if frames else None

    def keyframe_at_or_before(self, channel: int, at_us: int) -> int | None:
        """Position of the chunk with the last keyframe of ``channel`` at or before ``at_us``."""
        frames = self._keyframes.get(channel, [])
        i = bisect.bisect_right(frames, (at_us, len(self.entries)))
        return frames[i - 1][1] if i else None
