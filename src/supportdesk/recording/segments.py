"""Segments: one session recorded in several files, each chained to the one before.

When a session's server dies, the node that takes the session over closes the dead
node's file at its last good chunk (:mod:`.recovery`) and continues in a new file,
segment n + 1, whose header carries segment n's final hash. Pure checks, no files:
:func:`check_links` says whether a sequence of segments is complete and linked;
:func:`spans`, :func:`locate` and :func:`gaps` place the segments on one timeline
(µs since the first segment's start) for the player and the export.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from .format import NO_LINK

__all__ = [
    "LinkProblem",
    "SegmentFacts",
    "SegmentSpan",
    "check_links",
    "gaps",
    "locate",
    "spans",
]


@dataclass(frozen=True, slots=True)
class SegmentFacts:
    """What one segment's file says about itself (its header, and its verified chain)."""

    segment: int
    """The number in its header."""
    previous_hash: bytes
    """The link in its header: the final hash of the segment before (zeros for 1)."""
    final_hash: bytes | None
    """The end of its verified chain (None: the file could not be read)."""


@dataclass(frozen=True, slots=True)
class LinkProblem:
    segment: int
    """The segment whose link fails (or the first one missing)."""
    detail: str


def check_links(segments: Sequence[SegmentFacts]) -> LinkProblem | None:
    """None if the segments are 1, 2, ..., n in order and each carries the final hash
    of the one before; else the first segment that does not."""
    for position, facts in enumerate(segments):
        expected = position + 1
        if facts.segment != expected:
            if facts.segment > expected:
                detail = f"segment {expected} is missing (the next file is segment {facts.segment})"
            else:
                detail = f"segment {facts.segment} appears where segment {expected} belongs"
            return LinkProblem(expected, detail)
        if position == 0:
            if facts.previous_hash != NO_LINK:
                return LinkProblem(1, "segment 1 claims a previous segment")
            continue
        before = segments[position - 1].final_hash
        if before is None:
            return LinkProblem(expected, f"segment {expected - 1} cannot be read: no link to check")
        if facts.previous_hash != before:
            return LinkProblem(
                expected,
                f"segment {expected} does not continue segment {expected - 1}: it carries "
                f"{facts.previous_hash.hex()[:16]}…, segment {expected - 1} ends in "
                f"{before.hex()[:16]}…",
            )
    return None


@dataclass(frozen=True, slots=True)
class SegmentSpan:
    """Where one segment lies on the whole recording's timeline."""

    segment: int
    offset_us: int
    """Its start, µs after the first segment's start."""
    duration_us: int

    @property
    def end_us(self) -> int:
        return self.offset_us + self.duration_us


def spans(starts_us: Sequence[int], durations_us: Sequence[int]) -> list[SegmentSpan]:
    """Spans from each segment's start (µs since the epoch, from its header) and length.

    A segment never starts before the one before ends (a clock that stepped back):
    it is placed right after it.
    """
    out: list[SegmentSpan] = []
    if not starts_us:
        return out
    origin = starts_us[0]
    for number, (start, duration) in enumerate(zip(starts_us, durations_us, strict=True), 1):
        offset = start - origin
        if out:
            offset = max(offset, out[-1].end_us)
        out.append(SegmentSpan(number, offset, max(0, duration)))
    return out


def locate(segment_spans: Sequence[SegmentSpan], at_us: int) -> int:
    """Index of the segment that plays at ``at_us``: the one holding it, or the next
    one if ``at_us`` falls in a gap; the last one after the end."""
    ends = [s.end_us for s in segment_spans]
    return min(bisect.bisect_left(ends, at_us), len(segment_spans) - 1)


def gaps(segment_spans: Sequence[SegmentSpan]) -> list[tuple[int, int]]:
    """The (from, to) times where nothing was recorded between two segments."""
    return [(before.end_us, after.offset_us) for before, after in itertools.pairwise(segment_spans)]
