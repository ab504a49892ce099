"""Rect arithmetic and the UpdateTracker's bookkeeping."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.rfb import Rect
from supportdesk.rfb.update_tracker import MAX_DAMAGE_RECTS, UpdateTracker

rects = st.builds(
    Rect, st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40)
)


def mask(rs: list[Rect], size: int = 100) -> np.ndarray:
    m = np.zeros((size, size), dtype=bool)
    for r in rs:
        m[r.y : r.bottom, r.x : r.right] = True
    return m


@given(rects, rects)
def test_subtract_and_intersect_partition_the_rect(a: Rect, b: Rect) -> None:
    pieces = a.subtract(b)
    inter = a.intersect(b)
    assert (mask(pieces) | mask([inter])).sum() == a.area
    assert sum(p.area for p in pieces) + inter.area == a.area
    assert not (mask(pieces) & mask([b])).any()


@given(rects, st.integers(1, 50), st.integers(1, 900))
def test_tiles_cover_exactly_once(r: Rect, max_w: int, max_area: int) -> None:
    tiles = list(r.tiles(max_w, max(max_area, max_w)))
    assert sum(t.area for t in tiles) == r.area
    assert all(t.width <= max_w for t in tiles)
    assert mask(tiles).sum() == r.area


def test_tracker_clamps_and_consumes() -> None:
    t = UpdateTracker(100, 50)
    t.request(Rect(90, 40, 1000, 1000), incremental=False)
    assert t.full_areas == [Rect(90, 40, 10, 10)]
    assert t.take() == [Rect(90, 40, 10, 10)]
    assert not t.requested
    t.request(Rect(200, 200, 5, 5), incremental=True)
    assert not t.requested


def test_tracker_keeps_unsent_damage_and_collapses_many_rects() -> None:
    t = UpdateTracker(100, 100)
    t.add_damage([Rect(0, 0, 100, 100)])
    t.request(Rect(0, 0, 50, 100), incremental=True)
    assert t.take() == [Rect(0, 0, 50, 100)]
    assert t.damage == [Rect(50, 0, 50, 100)]
    t.add_damage(
        [Rect(i, 0, 1, 1) for i in range(0, 50, 2)] + [Rect(0, i, 1, 1) for i in range(2, 100, 2)]
    )
    assert len(t.damage) <= MAX_DAMAGE_RECTS
    assert t.damage[0].contains(Rect(50, 0, 50, 100))
