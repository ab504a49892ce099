"""What a viewer may copy of a vertical scroll when masks stand in it, and what it is sent.

A mask (a secret field, a window rule) is painted into every captured frame at the same
place while the text around it may scroll. One CopyRect of the whole scrolled band would
carry the mask's pattern onto the text and the text into the mask, and everything it
got wrong would have to be sent again as pixels. :func:`copies_around` cuts the move
into pieces whose destination and source both lie outside every mask (of the previous
and of the current frame), ordered so that a viewer doing them one after another gets
what one copy of the previous picture would give. The masked area standing still needs
nothing; the text that comes out from under a mask (never seen by the viewer) is
damage. :func:`frame_changes` is the whole step both capture loops take: the copies,
then the damage left after them.

Pure numpy on frames and rectangles, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from supportdesk.capture.damage import (
    Rect,
    VerticalScroll,
    detect_damage,
    detect_vertical_scroll,
)
from supportdesk.capture.screen_source import Frame
from supportdesk.rfb.geometry import Rect as Box

__all__ = ["MAX_PIECES", "apply_copies", "copies_around", "frame_changes"]

MAX_PIECES = 8
"""At most this many copies per scroll (the largest pieces; the rest is sent as pixels):
the RFB engine sends more than 16 pending copies as pixels anyway."""


def copies_around(scroll: VerticalScroll, masks: Sequence[Box]) -> list[VerticalScroll]:
    """``scroll`` cut into copies whose destination and source avoid every mask.

    The copies are disjoint and in the order a viewer must do them: for a move up, the
    topmost first (each reads rows below it that no earlier copy wrote), for a move
    down the lowest first. Without masks the scroll itself is the one copy.
    """
    shift = scroll.dst_y - scroll.src_y
    dst = Box(scroll.x, scroll.dst_y, scroll.width, scroll.height)
    holes = [h for m in masks for h in _holes(m, shift)]
    pieces = [dst]
    for hole in holes:
        pieces = [part for piece in pieces for part in piece.subtract(hole)]
    if len(pieces) > MAX_PIECES:
        pieces = sorted(pieces, key=lambda p: p.area, reverse=True)[:MAX_PIECES]
    pieces.sort(key=lambda p: p.y if shift < 0 else -p.bottom)
    return [VerticalScroll(p.x, p.width, p.y - shift, p.y, p.height) for p in pieces]


def _holes(mask: Box, shift: int) -> list[Box]:
    """Destination rows a copy must leave out for ``mask``: the mask, and where the rows
    read from the mask would land (one rectangle when the two touch: fewer pieces)."""
    landed = mask.translate(0, shift)
    if abs(shift) <= mask.height:
        return [mask.union_bounds(landed)]
    return [mask, landed]


def apply_copies(frame: Frame, copies: Sequence[VerticalScroll]) -> Frame:
    """A copy of ``frame`` after ``copies``, done one after another as the viewer does."""
    out = frame.copy()
    for c in copies:
        xs = slice(c.x, c.x + c.width)
        out[c.dst_y : c.dst_y + c.height, xs] = out[c.src_y : c.src_y + c.height, xs]
    return out


def frame_changes(
    previous: Frame,
    current: Frame,
    *,
    scroll: bool = True,
    masks: Sequence[Box] = (),
) -> tuple[list[VerticalScroll], list[Rect]]:
    """The copies (a vertical scroll, around ``masks``) and the damage left after them.

    ``masks`` are the rectangles painted into either frame, in their coordinates. After
    the copies, in order, and the damage sent from ``current``, a viewer that held
    ``previous`` holds ``current``. An unchanged frame gives ``([], [])``.
    """
    damage = detect_damage(previous, current)
    if not damage or not scroll:
        return [], damage
    moved = detect_vertical_scroll(previous, current, masks=masks)
    if moved is None:
        return [], damage
    copies = copies_around(moved, masks)
    if not copies:
        return [], damage
    return copies, detect_damage(apply_copies(previous, copies), current)
