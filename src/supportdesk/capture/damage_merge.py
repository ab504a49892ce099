"""Fewer damage rectangles for the encoder: neighbours merged where little is added.

Damage comes out of capture in pieces: each grabbed area is compared on its own, a mask
that moved is grabbed apart from the drawing, and the damage is cut at every mask (so
that a mask's stripes are coded apart from the text around them). Many of the pieces
touch: a mask's new place cut in two by the edge of a grab, the text where a mask went
beside the text around it. The RFB engine pays for every rectangle (its bookkeeping,
the Tight encoder's classifying, a header and a zlib flush): about 0.12 ms each on this
machine, as much as encoding some 25,000 more pixels of text. :func:`merge_damage`
joins two rectangles into their bounding box when the box adds at most ``slack``
pixels that neither held, and never joins a mask's stripes with the picture around it:
only rectangles inside the same mask, or outside every mask with a box that stays
outside every mask, are joined.

Pure geometry on :class:`~supportdesk.rfb.geometry.Rect`, no I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from supportdesk.rfb.geometry import Rect

__all__ = ["MERGE_SLACK", "merge_damage"]

MERGE_SLACK = 4096
"""Pixels a merge may add that no rectangle held (one 64x64 tile): with 2048 the moving
field of bench.masking kept more rectangles, with 8192 the merged areas cut into more
encoder tiles (a replay of 200 recorded wake-ups: 12.5, 12.3 and 12.6 tiles a wake-up)."""

_MAX_MERGED = 24
"""Longer lists are left as they are: the pairs are looked at once, which is quadratic
(24 rectangles took about 1 ms on this machine, 10 took 0.1 ms)."""

_Box = tuple[int, int, int, int]  # x0, y0, x1, y1: plain ints, the pairs are many


def merge_damage(
    rects: Sequence[Rect], masks: Sequence[Rect], slack: int = MERGE_SLACK
) -> list[Rect]:
    """``rects`` (damage of one picture) with neighbours merged; covers every pixel they did.

    ``masks`` are the rectangles masked in that picture. A rectangle inside a mask is
    joined only with others inside the same mask, one outside every mask only with
    others outside, and only into a box that touches no mask; a rectangle that lies
    partly in a mask stays as it is. The pair whose box adds the fewest pixels is
    joined first, until no box adds at most ``slack``.
    """
    if len(rects) < 2 or len(rects) > _MAX_MERGED:
        return list(rects)
    holes = [(m.x, m.y, m.right, m.bottom) for m in masks]
    groups: dict[int, list[_Box]] = {}
    out: list[Rect] = []
    for r in rects:
        box = (r.x, r.y, r.right, r.bottom)
        home = next((i for i, m in enumerate(holes) if _inside(box, m)), None)
        if home is not None:
            groups.setdefault(home, []).append(box)
        elif not any(_meet(box, m) for m in holes):
            groups.setdefault(-1, []).append(box)
        else:
            out.append(r)
    for home, group in groups.items():
        merged = _merged(group, holes if home < 0 else [], slack)
        out.extend(Rect(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in merged)
    return out


def _inside(a: _Box, b: _Box) -> bool:
    return b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3]


def _meet(a: _Box, b: _Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _join(a: _Box, b: _Box) -> tuple[int, _Box]:
    """The box of ``a`` and ``b``, and how many pixels it holds that neither did."""
    box = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
    both = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    ox, oy = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if ox > 0 and oy > 0:
        both -= ox * oy
    return (box[2] - box[0]) * (box[3] - box[1]) - both, box


def _merged(group: list[_Box], avoid: Sequence[_Box], slack: int) -> list[_Box]:
    """``group`` with the cheapest pair joined while a box adds at most ``slack`` pixels
    and meets none of ``avoid`` (each pair's cost worked out once, kept in a heap)."""
    if len(group) < 2:
        return group
    alive = dict(enumerate(group))
    heap: list[tuple[int, int, int, _Box]] = []

    def offer(i: int, a: _Box, j: int, b: _Box) -> None:
        added, box = _join(a, b)
        if added <= slack and not any(_meet(box, m) for m in avoid):
            heapq.heappush(heap, (added, i, j, box))

    for i in range(len(group)):
        for j in range(i + 1, len(group)):
            offer(i, group[i], j, group[j])
    made = len(group)
    while heap:
        _, i, j, box = heapq.heappop(heap)
        if i not in alive or j not in alive:
            continue  # one of them was joined already
        del alive[i], alive[j]
        for k, other in alive.items():
            offer(k, other, made, box)
        alive[made] = box
        made += 1
    return list(alive.values())
