"""JPEG while a picture moves, an exact copy once it rests: the lossless refresh."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from supportdesk.rfb import Rect
from supportdesk.rfb.lossy_areas import MAX_LOSSY_RECTS, LossyAreas

from . import viewer as v
from .conftest import Pair, desktop_frame

TIGHT, QUALITY_8 = 7, -32 + 8


def update(conn: object, viewer: v.Viewer, frame: np.ndarray) -> None:
    conn.receive_data(v.update_request(True, 0, 0, 256, 192))  # type: ignore[attr-defined]
    assert conn.send_framebuffer_update(frame)  # type: ignore[attr-defined]
    viewer.feed(conn.data_to_send())  # type: ignore[attr-defined]


def test_a_resting_jpeg_area_is_resent_exactly(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(256, 192, (TIGHT, QUALITY_8))
    frame = desktop_frame(256, 192)
    photo = Rect(128, 96, 128, 96)  # the photo-like quarter of desktop_frame
    conn.add_damage([Rect(0, 0, 256, 192)])
    update(conn, viewer, frame)
    assert "jpeg" in viewer.tight_kinds
    assert not np.array_equal(viewer.fb, frame)  # lossy where the photo is
    bounds = conn.lossy_bounds
    assert bounds is not None and bounds.contains(photo)
    # Level 8 asks 4:4:4; while the picture moves the engine sends 4:2:0 JPEG.
    assert conn._pixels.tight.settings.photo_subsampling == "420"
    first = viewer.fb.copy()
    conn.add_damage([photo])
    update(conn, viewer, frame)  # the same area again: a moving picture, smaller
    quarter = (slice(96, None), slice(128, None))
    assert v.psnr(viewer.fb[quarter], frame[quarter]) < v.psnr(first[quarter], frame[quarter])

    assert conn.refresh_lossy()
    viewer.tight_kinds.clear()
    update(conn, viewer, frame)
    assert "jpeg" not in viewer.tight_kinds
    assert np.array_equal(viewer.fb, frame)
    assert conn.lossy_bounds is None
    assert not conn.refresh_lossy()


def test_an_explicit_subsampling_is_kept(connect: Callable[..., Pair]) -> None:
    conn, _ = connect(64, 64, (TIGHT, QUALITY_8, -768 + 0))  # 4:4:4 asked by name
    assert conn._pixels.tight.settings.photo_subsampling is None


def test_lossy_areas_forget_what_an_exact_rectangle_covers_and_stay_bounded() -> None:
    areas = LossyAreas()
    areas.sent(Rect(0, 0, 64, 64), lossy=True)
    areas.sent(Rect(64, 0, 64, 64), lossy=True)
    areas.sent(Rect(0, 0, 64, 64), lossy=False)
    assert areas.bounds == Rect(64, 0, 64, 64)
    for i in range(MAX_LOSSY_RECTS + 1):
        areas.sent(Rect(i, 100, 1, 1), lossy=True)
    taken = areas.take()
    assert len(taken) <= MAX_LOSSY_RECTS
    for lossy in [Rect(64, 0, 64, 64), *(Rect(i, 100, 1, 1) for i in range(MAX_LOSSY_RECTS + 1))]:
        assert any(t.contains(lossy) for t in taken)
    assert areas.bounds is None
