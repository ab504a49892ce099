"""SegmentedRecording: a session's segment files, open together on one timeline.

A session taken over by another node is recorded in several files (segments). Times
inside a segment count from that segment's start; here every segment is placed at
its offset from the first segment's start (:func:`~.segments.spans`), so the player,
the timeline and the export see one recording whose gaps (the time between a dead
node's last chunk and the new node's first) are known. A single-segment recording
is the same thing with one reader and no gaps.

Channels: each node numbers a session's screen channels afresh, so a channel of one
segment is a stream of its own. :meth:`SegmentedRecording.channel_in` picks the one
to show in each segment: the channel asked for if that segment has it, else the
segment's first screen of the same kind (RFB or browser video).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from types import TracebackType

from .format import Record
from .reader import RecordingReader
from .segments import SegmentSpan, gaps, locate, spans

__all__ = ["SegmentedRecording", "ShownChannel"]


@dataclass(frozen=True, slots=True)
class ShownChannel:
    channel: int
    first_us: int
    """When its first picture was recorded, on the whole recording's timeline."""
    video: bool


class SegmentedRecording:
    """Readers of one session's segments, in order; use as a context manager."""

    def __init__(self, readers: Sequence[RecordingReader]) -> None:
        if not readers:
            raise ValueError("a recording has at least one segment")
        self.readers = list(readers)
        self.spans: list[SegmentSpan] = spans(
            [r.header.created_at_us for r in self.readers],
            [r.duration_us for r in self.readers],
        )

    @classmethod
    def open(cls, paths: Sequence[str | os.PathLike[str]], master_key: bytes) -> SegmentedRecording:
        readers: list[RecordingReader] = []
        try:
            for path in paths:
                readers.append(RecordingReader(path, master_key))
        except BaseException:
            for reader in readers:
                reader.close()
            raise
        return cls(readers)

    def __enter__(self) -> SegmentedRecording:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for reader in self.readers:
            reader.close()

    # -- the timeline ------------------------------------------------------------------

    @property
    def duration_us(self) -> int:
        return self.spans[-1].end_us

    @property
    def gaps(self) -> list[tuple[int, int]]:
        return gaps(self.spans)

    def locate(self, at_us: int) -> int:
        """Index of the segment that plays at ``at_us`` (the next one in a gap)."""
        return locate(self.spans, at_us)

    def events(self) -> Iterator[Record]:
        """Every segment's control, chat and file records, on the whole timeline."""
        for reader, span in zip(self.readers, self.spans, strict=True):
            for record in reader.events():
                yield replace(record, at_us=record.at_us + span.offset_us)

    # -- channels ----------------------------------------------------------------------

    def channels(self) -> list[ShownChannel]:
        """Every screen channel number, with its first appearance, in order."""
        seen: dict[int, ShownChannel] = {}
        for reader, span in zip(self.readers, self.spans, strict=True):
            index = reader.index
            for channel in index.channels:
                if channel not in seen:
                    first = index.entries[index.channel_starts[channel]].header.first_us
                    seen[channel] = ShownChannel(
                        channel, first + span.offset_us, index.is_video(channel)
                    )
        return list(seen.values())

    def first_channel(self) -> int | None:
        shown = self.channels()
        return shown[0].channel if shown else None

    def is_video(self, channel: int) -> bool:
        return any(c.video for c in self.channels() if c.channel == channel)

    def channel_in(self, segment: int, channel: int, video: bool) -> int | None:
        """The channel to show in segment index ``segment``; None if it has no such screen."""
        index = self.readers[segment].index
        if channel in index.channel_starts and index.is_video(channel) == video:
            return channel
        return next((c for c in index.channels if index.is_video(c) == video), None)
