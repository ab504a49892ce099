"""Tile damage detection and vertical-scroll detection on synthetic frames."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from supportdesk.capture.damage import (
    Rect,
    VerticalScroll,
    changed_tiles,
    detect_damage,
    detect_vertical_scroll,
)
from supportdesk.capture.scroll_copies import apply_copies


def frame(h: int = 1080, w: int = 1920, value: int = 0) -> np.ndarray:
    return np.full((h, w, 4), value, dtype=np.uint8)


def test_no_change_is_empty() -> None:
    a = frame()
    assert detect_damage(a, a.copy()) == []


def test_first_frame_is_everything() -> None:
    assert detect_damage(None, frame(100, 50)) == [Rect(0, 0, 50, 100)]


def test_size_change_is_everything() -> None:
    assert detect_damage(frame(10, 10), frame(20, 30)) == [Rect(0, 0, 30, 20)]


def test_single_pixel_is_one_tile() -> None:
    a = frame()
    b = a.copy()
    b[500, 700, 2] = 255
    assert detect_damage(a, b) == [Rect(640, 448, 64, 64)]


def test_cursor_across_a_tile_edge_is_one_rect() -> None:
    a = frame()
    b = a.copy()
    b[120:140, 60:70] = 200  # a text cursor straddling four tiles
    assert detect_damage(a, b) == [Rect(0, 64, 128, 128)]


def test_two_distant_changes_are_two_rects() -> None:
    a = frame()
    b = a.copy()
    b[5, 5] = 1
    b[1000, 1900] = 1
    assert detect_damage(a, b) == [Rect(0, 0, 64, 64), Rect(1856, 960, 64, 64)]


def test_full_change_is_one_rect() -> None:
    a = frame()
    assert detect_damage(a, frame(value=9)) == [Rect(0, 0, 1920, 1080)]


def test_edge_tiles_are_clipped_to_the_frame() -> None:
    a = frame(100, 130)
    b = a.copy()
    b[99, 129] = 7
    assert detect_damage(a, b) == [Rect(128, 64, 2, 36)]


def test_checkerboard_collapses_to_at_most_max_rects() -> None:
    a = frame()
    b = a.copy()
    grid = changed_tiles(a, b)
    for ty in range(grid.shape[0]):
        for tx in range(ty % 2, grid.shape[1], 2):
            b[ty * 64, tx * 64] = 1
    rects = detect_damage(a, b, max_rects=8)
    assert 1 <= len(rects) <= 8
    covered = np.zeros(a.shape[:2], dtype=bool)
    for r in rects:
        covered[r.y : r.y + r.height, r.x : r.x + r.width] = True
    assert covered[(a != b).any(axis=2)].all()


def test_rejects_non_bgrx_frames() -> None:
    with pytest.raises(ValueError):
        detect_damage(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8))


@st.composite
def frame_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    h = draw(st.integers(1, 90))
    w = draw(st.integers(1, 90))
    tile = draw(st.sampled_from([1, 7, 16, 64]))
    a = draw(hnp.arrays(np.uint8, (h, w, 4), elements=st.integers(0, 3)))
    mask = draw(hnp.arrays(np.bool_, (h, w)))
    b = a.copy()
    b[mask] ^= np.uint8(1)
    return a, b, tile


@settings(max_examples=200, deadline=None)
@given(frame_pairs(), st.integers(1, 40))
def test_every_changed_pixel_is_covered_by_aligned_rects(
    pair: tuple[np.ndarray, np.ndarray, int], max_rects: int
) -> None:
    a, b, tile = pair
    h, w = a.shape[:2]
    rects = detect_damage(a, b, tile=tile, max_rects=max_rects)
    assert len(rects) <= max_rects
    covered = np.zeros((h, w), dtype=bool)
    for r in rects:
        assert r.x % tile == 0 and r.y % tile == 0
        assert r.width > 0 and r.height > 0
        assert r.x + r.width <= w and r.y + r.height <= h
        assert r.width % tile == 0 or r.x + r.width == w
        assert r.height % tile == 0 or r.y + r.height == h
        covered[r.y : r.y + r.height, r.x : r.x + r.width] = True
    assert covered[(a != b).any(axis=2)].all()
    if not (a != b).any():
        assert rects == []


def test_damage_is_fast_on_full_hd() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (1080, 1920, 4), dtype=np.uint8)
    b = a.copy()
    b[500:520, 700:710] = 0
    detect_damage(a, b)
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        detect_damage(a, b)
    per_frame = (time.perf_counter() - start) / runs
    assert per_frame < 0.025, f"{per_frame * 1000:.1f} ms per 1920x1080 frame"


def text_like(h: int = 400, w: int = 600, seed: int = 1) -> np.ndarray:
    """Random 'text lines' on a white background, with blank rows between lines."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 4), 255, dtype=np.uint8)
    for y in range(0, h, 16):
        img[y : y + 12, 8 : w - 8] = rng.integers(0, 256, (12, w - 16, 4), dtype=np.uint8)
    return img


def test_scroll_up_is_found() -> None:
    a = text_like()
    b = a.copy()
    b[50:350, 100:500] = a[82:382, 100:500]  # a window scrolled by two lines
    found = detect_vertical_scroll(a, b)
    assert found is not None
    # The last two moved rows are blank in both frames, so they need not move.
    assert found == VerticalScroll(x=100, width=400, src_y=82, dst_y=50, height=298)
    assert np.array_equal(apply_copies(a, [found]), b)


def test_scroll_down_is_found() -> None:
    a = text_like()
    b = a.copy()
    b[40:400] = a[0:360]
    found = detect_vertical_scroll(a, b)
    assert found is not None
    assert (found.src_y, found.dst_y, found.height) == (0, 40, 360)


def test_scroll_then_new_line_leaves_only_the_new_line_as_damage() -> None:
    a = text_like()
    b = a.copy()
    b[0:384] = a[16:400]
    b[384:400] = 255
    b[384:396, 8:100] = 3  # the new line
    found = detect_vertical_scroll(a, b)
    assert found is not None and found.dst_y == 0 and found.src_y == 16
    rest = detect_damage(apply_copies(a, [found]), b, tile=16)
    assert rest and all(r.y >= 384 - 16 for r in rest)


def test_no_scroll_for_unrelated_change_or_identity() -> None:
    a = text_like()
    assert detect_vertical_scroll(a, a.copy()) is None
    assert detect_vertical_scroll(a, text_like(seed=2)) is None
    b = a.copy()
    b[10:12, 10:12] = 0
    assert detect_vertical_scroll(a, b) is None


def _viewer_after(previous: np.ndarray, current: np.ndarray, found: VerticalScroll) -> np.ndarray:
    """What a viewer shows after the CopyRect and the damage found after it (64-px tiles)."""
    shown = apply_copies(previous, [found])
    for r in detect_damage(shown, current):
        shown[r.y : r.y + r.height, r.x : r.x + r.width] = current[
            r.y : r.y + r.height, r.x : r.x + r.width
        ]
    return shown


def test_the_copy_and_the_damage_after_it_give_the_new_picture() -> None:
    a = text_like()
    b = a.copy()
    b[0:384] = a[16:400]
    b[384:400] = 255
    b[384:396, 8:100] = 3
    found = detect_vertical_scroll(a, b)
    assert found is not None
    assert np.array_equal(_viewer_after(a, b, found), b)


def test_a_row_that_differs_between_the_samples_is_sent_after_the_move() -> None:
    a = text_like()
    b = a.copy()
    b[50:350, 100:500] = a[82:382, 100:500]
    found = detect_vertical_scroll(a, b, bounds=(100, 50, 500, 350))
    assert found is not None
    sampled = set(np.linspace(100, 499, num=256).astype(int).tolist())
    hidden = next(x for x in range(100, 500) if x not in sampled)
    b[200, hidden] = (1, 2, 3, 0)  # inside the moved band, where no sample looks
    found = detect_vertical_scroll(a, b, bounds=(100, 50, 500, 350))
    assert found is not None and found.dst_y <= 200 < found.dst_y + found.height
    assert np.array_equal(_viewer_after(a, b, found), b)


def test_a_moving_picture_is_no_scroll() -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 256, (270, 480, 4), dtype=np.uint8)
    b = np.roll(a, 23, axis=1)  # slid sideways, as the reference workload's plasma
    assert detect_vertical_scroll(a, b) is None
