"""When the relay asks a browser for a key chunk as a seek point of the recording.

A seek in a recorded browser share decodes forward from the key chunk before the
wanted time (``static/player-video.js``): what a seek costs is the number of chunks
since that key chunk, not the seconds. A fixed 10 s spacing made a third of the bytes
of a scrolling terminal key chunks (docs/benchmarks.md, "Browser sharing"), and just as
many on a page whose encoder sends only a few frames a second. So the relay counts the
chunks since the last key chunk — whatever asked for it: a viewer joining, a drop, a
decoder error — and asks for the next seek point once ``max_chunks`` have gone by
(10 s at 30 frames/s, the worst case the old spacing allowed), or ``max_seconds`` after
the last key chunk however few came (a quiet screen that still changes has one now and
then; one that sent nothing since needs none, a seek decodes nothing after it). A
request the browser has not answered yet is repeated only after ``retry_seconds``.

Pure bookkeeping fed the chunks and a clock reading; the recording asks on its tick.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_CHUNKS = 300
"""Chunks a seek may have to decode: 10 s at 30 frames/s, as the old spacing."""
MAX_SECONDS = 300.0
"""The longest spacing however few chunks came. Long: a 1080p key chunk is about 190 KB,
every 60 s that is 0.025 Mbit/s, half of what a terminal scrolling at 2 frames/s costs."""
RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class SeekPointRule:
    """How far apart the recording's video seek points may be (``[recording]``)."""

    max_chunks: int = MAX_CHUNKS
    max_seconds: float = MAX_SECONDS
    retry_seconds: float = RETRY_SECONDS


class SeekPoints:
    """Chunks and time since the last key chunk of one video channel."""

    def __init__(self, rule: SeekPointRule, now: float) -> None:
        self.rule = rule
        self._since_key = 0
        self._key_at = now
        self._asked_at: float | None = None

    @property
    def chunks_since_key(self) -> int:
        return self._since_key

    def chunk(self, key: bool, now: float) -> None:
        """A chunk went into the recording; a key chunk is a seek point."""
        if key:
            self._since_key = 0
            self._key_at = now
            self._asked_at = None
        else:
            self._since_key += 1

    def due(self, now: float) -> bool:
        """Whether to ask the browser for a key chunk now (then call :meth:`asked`)."""
        if self._asked_at is not None and now - self._asked_at < self.rule.retry_seconds:
            return False
        rule = self.rule
        if self._since_key >= rule.max_chunks:
            return True
        # Nothing since the last key chunk: a seek decodes nothing, no new point needed.
        return self._since_key > 0 and now - self._key_at >= rule.max_seconds

    def asked(self, now: float) -> None:
        self._asked_at = now
