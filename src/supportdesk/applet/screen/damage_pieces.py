"""What a damage-driven wake grabs and hands over: pure geometry on rectangles.

The X server's damage becomes at most ``MAX_PIECES`` grid-aligned pieces
(:func:`drawn_pieces`), grabbed one by one or in one box (:func:`grabs`); the two largest
tall pieces are looked at for a scroll (:func:`scroll_candidates`); a mask that moved
is grabbed again where it was and where it is (:func:`mask_moves`), and a piece only
such a move put there needs no comparing (:func:`quiet_pieces`); a wake's damage is
merged into fewer rectangles before the engine gets it (:func:`fewer_rects`). The
capture thread that uses them: :mod:`supportdesk.applet.screen.damage_capture`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from supportdesk.applet.screen.capture_loop import FrameOp
from supportdesk.capture.damage import tiles_to_rects
from supportdesk.capture.damage_merge import merge_damage
from supportdesk.rfb.geometry import Rect

__all__ = [
    "GRID",
    "MAX_PIECES",
    "drawn_pieces",
    "fewer_rects",
    "grabs",
    "mask_moves",
    "quiet_pieces",
    "scroll_candidates",
]

GRID = 32
"""Damage rectangles are widened to this grid before grabbing (fewer, larger grabs)."""
MAX_PIECES = 32
"""Drawn areas are merged into at most this many rectangles, each compared on its own."""
SCROLL_MIN_ROWS = 128
SCROLL_MIN_AREA = 128 * 256
MAX_SEPARATE_GRABS = 4
"""More pieces than this are grabbed in one go (their bounding box)."""


def fewer_rects(ops: list[FrameOp], masks: Sequence[Rect]) -> list[FrameOp]:
    """The copies of one wake's ``ops`` in their order, then its damage merged
    (:func:`~supportdesk.capture.damage_merge.merge_damage`, ``masks`` of the newest grab).

    Every damage rectangle may go after the copies: a wake's pieces do not overlap and each
    piece's copies come before its damage, so no damage lies in the source of a copy that
    followed it (which would have had to carry it along). A field moving over scrolling
    text on every wake-up had its new place sent in three rectangles and the text where
    it went in two (cut by a tile row and by the edge of a grab); with the copies of
    :class:`~supportdesk.capture.scroll_copies.MaskPlaces` and this merge, 200 of
    bench.masking's wake-ups replayed went from 18.8 to 12.3 Tight rectangles a
    wake-up ("off": 6.7, merged 6.6).
    """
    damage = [op for op in ops if isinstance(op, Rect)]
    if len(damage) < 2:
        return ops
    return [*(op for op in ops if not isinstance(op, Rect)), *merge_damage(damage, masks)]


def mask_moves(painted: list[Rect], now: list[Rect]) -> list[Rect]:
    """What to grab again when the masks changed: every rectangle painted and every new one.

    Nothing if the same rectangles are masked (a still mask costs no grab). Otherwise
    all of both: where a mask went the picture underneath must be grabbed, where one
    came it must be painted, and where they overlap the label moved.
    """
    if set(painted) == set(now):
        return []
    return list(dict.fromkeys([*painted, *now]))


def quiet_pieces(
    pieces: Sequence[Rect], drawn: Sequence[Rect], moved: Sequence[Rect], left: int, top: int
) -> dict[Rect, list[Rect]]:
    """The pieces in which nothing was drawn (a mask's place, apart from the drawing),
    each with the parts of the ``moved`` rectangles in it: what changed there.

    ``drawn`` and ``moved`` are in root coordinates, the pieces and the parts in the
    monitor's (``left``, ``top`` its origin). Where a mask went the stripes leave and
    where one came they appear, and the rest of such a piece was not drawn: its parts
    are sent as they are, not compared pixel for pixel (bench.masking, a field moving
    with every wake-up: comparing that piece took 0.7 ms of a wake-up's 4 to 5).
    """
    here = [d.translate(-left, -top) for d in drawn]
    places = [m.translate(-left, -top) for m in moved]
    out: dict[Rect, list[Rect]] = {}
    for p in pieces:
        if all(p.intersect(d).is_empty for d in here):
            parts = (m.intersect(p) for m in places)
            out[p] = [c for c in dict.fromkeys(parts) if not c.is_empty]
    return out


def drawn_pieces(
    drawn: list[Rect], left: int, top: int, width: int, height: int, apart: Sequence[Rect] = ()
) -> list[Rect]:
    """Root-window damage → at most MAX_PIECES grid-aligned areas inside the monitor.

    ``apart`` (where a mask went or came) becomes pieces of its own beside the drawn
    ones: merged with them, its rows would cut a scrolling window into bands, each
    looked at for a scroll alone and the seams sent as pixels (bench.masking, a field
    moving over the scrolling text: 5.5 copies and 65 kpx of pixels more a wake-up).
    """
    rows, cols = -(-height // GRID), -(-width // GRID)

    def grid_of(rects: Sequence[Rect]) -> npt.NDArray[np.bool_]:
        grid = np.zeros((rows, cols), dtype=np.bool_)
        for r in rects:
            x0, y0 = max(0, r.x - left), max(0, r.y - top)
            x1, y1 = min(width, r.x - left + r.width), min(height, r.y - top + r.height)
            if x0 < x1 and y0 < y1:
                grid[y0 // GRID : -(-y1 // GRID), x0 // GRID : -(-x1 // GRID)] = True
        return grid

    pieces = tiles_to_rects(grid_of(drawn), width, height, GRID, MAX_PIECES)
    if apart:
        rest = grid_of(apart)
        for p in pieces:
            y1, x1 = -(-(p.y + p.height) // GRID), -(-(p.x + p.width) // GRID)
            rest[p.y // GRID : y1, p.x // GRID : x1] = False
        extra = tiles_to_rects(rest, width, height, GRID, MAX_PIECES)
        if len(pieces) + len(extra) <= MAX_PIECES:
            pieces += extra
        else:  # too many: merged, as at most MAX_PIECES
            pieces = tiles_to_rects(grid_of([*drawn, *apart]), width, height, GRID, MAX_PIECES)
    return [Rect(r.x, r.y, r.width, r.height) for r in pieces]


def scroll_candidates(pieces: list[Rect]) -> set[Rect]:
    """The pieces worth a look for a vertical scroll: the two largest of at least 128 rows.

    Scrolling that a CopyRect pays for moves a large area (a page, a list); looking in
    every piece of a busy screen cost more than all the rest of the capture (measured on
    the heavy workload: a thousand looks in 5 s).
    """
    tall = [p for p in pieces if p.height >= SCROLL_MIN_ROWS and p.area >= SCROLL_MIN_AREA]
    return set(sorted(tall, key=lambda p: p.area, reverse=True)[:2])


def grabs(pieces: list[Rect]) -> list[tuple[Rect, list[Rect]]]:
    """Which areas to grab for ``pieces``, each with the pieces it holds.

    A few pieces are grabbed one by one; more, or pieces that cover two thirds of their
    bounding box or more, in one grab of that box: each grab is a round trip to a busy X
    server, which costs more than copying some unchanged pixels (measured on the heavy
    workload: 13 grabs a wake-up spent more time waiting for replies than all the rest),
    but not four times the pixels (the reference workload's clock and plasma, a screen
    apart, had been grabbed with the 1760x352 between them: 620,000 pixels for 160,000).
    """
    if not pieces:
        return []
    box = pieces[0]
    for r in pieces[1:]:
        box = box.union_bounds(r)
    if len(pieces) > MAX_SEPARATE_GRABS or sum(r.area for r in pieces) * 3 >= box.area * 2:
        return [(box, pieces)]
    return [(r, [r]) for r in pieces]
