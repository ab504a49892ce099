"""LossyAreas: which areas the viewer holds as JPEG, and their bounding box."""

from __future__ import annotations

import random

from supportdesk.rfb.geometry import Rect
from supportdesk.rfb.lossy_areas import MAX_LOSSY_RECTS, LossyAreas


def _box(rects: list[Rect]) -> Rect | None:
    """The bounding box worked out from the corners (not as the class does it)."""
    if not rects:
        return None
    x0, y0 = min(r.x for r in rects), min(r.y for r in rects)
    x1, y1 = max(r.right for r in rects), max(r.bottom for r in rects)
    return Rect(x0, y0, x1 - x0, y1 - y0)


def test_an_exact_rectangle_removes_the_jpeg_areas_it_covers() -> None:
    areas = LossyAreas()
    areas.sent(Rect(0, 0, 64, 64), lossy=True)
    areas.sent(Rect(200, 0, 64, 64), lossy=True)
    assert areas.bounds == Rect(0, 0, 264, 64)
    areas.sent(Rect(180, 0, 100, 100), lossy=False)
    assert areas.bounds == Rect(0, 0, 64, 64)
    assert areas.take() == [Rect(0, 0, 64, 64)]
    assert areas.bounds is None


def test_the_bounds_always_hold_every_jpeg_area_left() -> None:
    rng = random.Random(16)
    areas = LossyAreas()
    for _ in range(2000):
        rect = Rect(rng.randrange(0, 1800), rng.randrange(0, 1000), rng.randrange(1, 300), 64)
        areas.sent(rect, lossy=rng.random() < 0.6)
        left = list(areas._rects)
        assert areas.bounds == _box(left)
        assert len(left) <= MAX_LOSSY_RECTS
        if rng.random() < 0.01:
            assert areas.take() == left
            assert areas.bounds is None
