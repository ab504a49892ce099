"""Where a viewer can copy a mask that moved, instead of being sent its stripes again.

:class:`~supportdesk.capture.mask.MaskPainter` places a mask's stripes and label by the
mask's own top-left corner, so a mask painted alone (no other mask overlapping it) is
the same picture wherever it stands and whatever lies under it. When a mask moved
keeping its size (a dragged window's password field, a rule's window moved), the viewer
already holds that picture at the old place: everything it was sent was masked. One
CopyRect from there puts it at the new place, which then needs no comparing and no
encoding (bench.masking: the stripes and label of a moved field cost the encoder 0.7 to
0.9 ms a wake-up more than "off").

:func:`mask_copies` is the geometry: which new places can be copied from which held
ones. A copy moves only pixels the viewer holds, so it can carry no secret; the capture
loops also check, pixel for pixel, that the source holds what the new place shows
before they hand a copy on (:func:`~supportdesk.capture.scroll_copies.frame_changes`,
``DamageCaptureLoop``), so a copy never leaves a wrong picture either.

Pure geometry on rectangles, no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

from supportdesk.rfb.geometry import Rect as Box

__all__ = ["MaskCopy", "after_scroll", "mask_copies"]


class MaskCopy(NamedTuple):
    """The rectangle ``x, y, width, height`` (a mask's new place) gets what the viewer
    holds at ``src_x, src_y`` (a place where it holds the same mask picture)."""

    x: int
    y: int
    width: int
    height: int
    src_x: int
    src_y: int

    @property
    def dst(self) -> Box:
        return Box(self.x, self.y, self.width, self.height)

    @property
    def src(self) -> Box:
        return Box(self.src_x, self.src_y, self.width, self.height)


def _alone(mask: Box, rects: Sequence[Box]) -> bool:
    """True if no other rectangle of ``rects`` overlaps ``mask``: painted alone."""
    return all(r == mask or r.intersect(mask).is_empty for r in rects)


def mask_copies(before: Sequence[Box], now: Sequence[Box]) -> list[MaskCopy]:
    """Copies that put every mask of ``now`` that is new (not in ``before``) and painted
    alone there, from a mask of ``before`` of the same size painted alone there.

    ``before``: the masks painted into the picture the viewer holds; ``now``: those of
    the new one. A mask that went is the preferred source (a mask that moved), then the
    nearest. No copy reads what another writes (a source meets no other copy's new
    place), so they may be done in any order; they come after a scroll's copies, which
    may move their sources (:func:`after_scroll`). A mask
    whose size changed, or that another mask overlaps in either picture (its pixels are
    not its own picture), has no copy and is sent as pixels.
    """
    held = set(before)
    went = set(before) - set(now)
    sources = [m for m in dict.fromkeys(before) if _alone(m, before)]
    out: list[MaskCopy] = []
    for new in dict.fromkeys(now):
        if new in held or not _alone(new, now):
            continue
        fits = [
            s
            for s in sources
            if (s.width, s.height) == (new.width, new.height)
            and all(s.intersect(c.dst).is_empty for c in out)
            and all(new.intersect(c.src).is_empty for c in out)
        ]
        if not fits:
            continue
        src = min(fits, key=lambda s: (s not in went, abs(s.x - new.x) + abs(s.y - new.y)))
        out.append(MaskCopy(new.x, new.y, new.width, new.height, src.x, src.y))
    return out


def after_scroll(
    moves: Sequence[MaskCopy], scrolls: Sequence[tuple[Box, Box]]
) -> list[list[MaskCopy]]:
    """``moves`` done after ``scrolls`` (a scroll's copies as (source, destination): the
    same columns in both, destinations that do not overlap, each reading what the
    viewer held before them), each as the copies that read its source where it is then:
    per move, its parts (empty: dropped, its new place is sent as pixels).

    The source is cut into columns at the scroll copies' edges. A column no scroll copy
    wrote into is read where it was; one a copy carried whole is read where it went; a
    column a copy wrote over but did not carry whole drops the move, and so does a part
    that would read what another part writes (of another move or of its own).

    A scroll's copies go first so that they may read a mask's new place (text the viewer
    holds there) and write its old one: cut around both, the scroll of bench.masking's
    moving field took 3.7 CopyRects a wake-up for "off"'s 1.0. A field over the edge of
    the scrolling text (a piece of the damage-driven path) is carried in part.
    """
    out: list[list[MaskCopy]] = []
    for move in moves:
        src, dx, dy = move.src, move.x - move.src_x, move.y - move.src_y
        edges = {src.x, src.right}
        edges.update(e for _, d in scrolls for e in (d.x, d.right) if src.x < e < src.right)
        xs = sorted(edges)
        parts: list[MaskCopy] = []
        for a, b in itertools.pairwise(xs):
            column = Box(a, src.y, b - a, src.height)
            writers = [(s, d) for s, d in scrolls if not d.intersect(column).is_empty]
            at = column
            if writers:
                s, d = writers[0]
                if len(writers) > 1 or not s.contains(column):
                    parts = []
                    break
                at = column.translate(d.x - s.x, d.y - s.y)
            parts.append(MaskCopy(a + dx, src.y + dy, b - a, src.height, at.x, at.y))
        out.append(parts)
    # A part must not read what another part writes, of another move or of its own (a
    # field moved by less than its width, cut into columns by a scroll's edges: the
    # first column written is the next one's source). One whole copy may overlap itself:
    # a CopyRect reads all of its source before it writes.
    writes = [p for parts in out for p in parts]
    return [
        parts
        if all(o.dst.intersect(p.src).is_empty for p in parts for o in writes if o is not p)
        else []
        for parts in out
    ]
