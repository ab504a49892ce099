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

from collections.abc import Sequence

from supportdesk.rfb.geometry import Rect

__all__ = ["MERGE_SLACK", "merge_damage"]

MERGE_SLACK = 4096
"""Pixels a merge may add that no rectangle held (one 64x64 tile): with 2048 the moving
field of bench.masking kept more rectangles, with 8192 the merged areas cut into more
encoder tiles (a replay of 200 recorded wake-ups: 12.5, 12.3 and 12.6 tiles a wake-up)."""

_MAX_MERGED = 64
"""Longer lists are left as they are (the pairwise search is quadratic)."""


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
    groups: dict[int, list[Rect]] = {}
    out: list[Rect] = []
    for r in rects:
        home = next((i for i, m in enumerate(masks) if m.contains(r)), None)
        if home is not None:
            groups.setdefault(home, []).append(r)
        elif all(m.intersect(r).is_empty for m in masks):
            groups.setdefault(-1, []).append(r)
        else:
            out.append(r)
    for home, group in groups.items():
        out.extend(_merged(group, masks if home < 0 else (), slack))
    return out


def _merged(group: list[Rect], avoid: Sequence[Rect], slack: int) -> list[Rect]:
    """``group`` with the cheapest pair joined while a box adds at most ``slack`` pixels
    and touches none of ``avoid``."""
    while len(group) > 1:
        best: tuple[int, int, int, Rect] | None = None
        for i, a in enumerate(group):
            for j in range(i + 1, len(group)):
                b = group[j]
                box = a.union_bounds(b)
                added = box.area - a.area - b.area + a.intersect(b).area
                if added > slack or (best is not None and added >= best[0]):
                    continue
                if any(not box.intersect(m).is_empty for m in avoid):
                    continue
                best = (added, i, j, box)
        if best is None:
            break
        _, i, j, box = best
        group = [r for k, r in enumerate(group) if k != i and k != j]
        group.append(box)
    return group
