"""Mask geometry and painting: what the agent gets instead of a secret field's pixels."""

from __future__ import annotations

import numpy as np
import pytest

from supportdesk.capture.mask import (
    DEFAULT_MARGIN,
    MaskArea,
    MaskKind,
    MaskPainter,
    monitor_rects,
    render_label,
)
from supportdesk.rfb.geometry import Rect

LABEL = "Geschützte Eingabe"


def secret(x: int, y: int, w: int, h: int) -> MaskArea:
    return MaskArea(Rect(x, y, w, h), MaskKind.SECRET_INPUT)


def test_areas_grow_by_the_margin_and_move_into_the_monitor() -> None:
    rects = monitor_rects([secret(1100, 200, 300, 30)], (1024, 0), (1024, 768), margin=8)
    assert rects == [Rect(1100 - 1024 - 8, 192, 316, 46)]


def test_areas_are_clipped_to_the_picture_and_empty_ones_dropped() -> None:
    rects = monitor_rects(
        [secret(-20, -20, 40, 40), secret(5000, 10, 10, 10), secret(630, 470, 50, 50)],
        (0, 0),
        (640, 480),
        margin=2,
    )
    assert rects == [Rect(0, 0, 22, 22), Rect(628, 468, 12, 12)]


def test_privacy_covers_the_picture_without_margin() -> None:
    huge = MaskArea(Rect(-(1 << 30), -(1 << 30), 1 << 31, 1 << 31), MaskKind.PRIVACY)
    assert monitor_rects([huge], (100, 50), (640, 480)) == [Rect(0, 0, 640, 480)]


def test_the_default_margin_covers_a_border() -> None:
    assert DEFAULT_MARGIN >= 4


def random_frame(seed: int, h: int = 120, w: int = 200) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8)


def test_painted_pixels_do_not_depend_on_what_was_underneath() -> None:
    painter = MaskPainter(LABEL)
    box = [Rect(10, 20, 180, 40)]
    a = painter.paint(random_frame(1), box)
    b = painter.paint(random_frame(2), box)
    assert np.array_equal(a[20:60, 10:190, :3], b[20:60, 10:190, :3])
    # and outside the box the frame is what it was
    assert np.array_equal(a[:20], random_frame(1)[:20])
    assert np.array_equal(a[60:], random_frame(1)[60:])
    assert np.array_equal(a[20:60, :10], random_frame(1)[20:60, :10])


def test_the_label_is_written_in_the_middle_when_it_fits() -> None:
    painter = MaskPainter(LABEL)
    frame = painter.paint(np.zeros((60, 300, 4), np.uint8), [Rect(0, 0, 300, 60)])
    dark = frame[:, :, 0] < 0x80
    ys, xs = np.nonzero(dark)
    assert len(ys) > 100
    assert abs((xs.min() + xs.max()) / 2 - 150) <= 2 and abs((ys.min() + ys.max()) / 2 - 30) <= 3
    # a field too small for the label gets the pattern alone
    small = painter.paint(np.zeros((60, 300, 4), np.uint8), [Rect(0, 0, 40, 10)])
    assert (small[:10, :40, 0] >= 0xB0).all()


def test_the_pattern_is_anchored_to_the_area_so_a_moved_mask_paints_the_same() -> None:
    # A mask that moved keeping its size is the same picture at its new place (label
    # and all): the viewer can copy it there from where it was (capture/mask_copies.py).
    painter = MaskPainter(LABEL)
    field = Rect(7, 13, 240, 40)
    a = painter.paint(random_frame(1, 200, 400), [field])
    for dx, dy in [(1, 0), (0, 3), (8, 8), (-5, 21), (130, 101)]:
        moved = field.translate(dx, dy)
        b = painter.paint(random_frame(2, 200, 400), [moved])
        assert np.array_equal(
            a[field.y : field.bottom, field.x : field.right],
            b[moved.y : moved.bottom, moved.x : moved.right],
        )
    # and one that stays put paints the same pixels every time, whatever is under it
    c = painter.paint(random_frame(3, 200, 400), [field])
    assert np.array_equal(a[13:53, 7:247], c[13:53, 7:247])


def test_overlapping_masks_paint_the_same_in_any_order() -> None:
    painter = MaskPainter(LABEL)
    rects = [Rect(10, 20, 180, 40), Rect(40, 30, 150, 60), Rect(0, 0, 30, 90)]
    first = painter.paint(random_frame(1), rects)
    for order in ([2, 1, 0], [1, 0, 2], [0, 2, 1]):
        assert np.array_equal(painter.paint(random_frame(1), [rects[i] for i in order]), first)


def test_a_read_only_frame_is_copied_not_written() -> None:
    frame = random_frame(3)
    frame.flags.writeable = False
    out = MaskPainter(LABEL).paint(frame, [Rect(0, 0, 10, 10)])
    assert out is not frame and not np.array_equal(out[:10, :10], frame[:10, :10])


@pytest.mark.parametrize("text", ["Geschützte Eingabe", "Protected input", "€"])
def test_labels_render_every_character_as_a_glyph(text: str) -> None:
    bitmap = render_label(text)
    assert bitmap.shape[1] > 0 and bitmap.any()


@pytest.mark.parametrize(
    "piece",
    [Rect(0, 0, 200, 120), Rect(32, 32, 64, 32), Rect(96, 40, 100, 80), Rect(0, 64, 32, 32)],
)
def test_a_piece_painted_alone_gets_what_the_whole_picture_gets_there(piece: Rect) -> None:
    # The damage-driven capture paints area grabs: pattern and label must be placed by
    # the picture, or a mask would look different (and be damage) grab by grab.
    painter = MaskPainter(LABEL)
    rects = [Rect(10, 30, 180, 40), Rect(150, 90, 60, 50), Rect(-5, 100, 20, 10)]
    whole = painter.paint(random_frame(3), rects)
    rows, cols = slice(piece.y, piece.bottom), slice(piece.x, piece.right)
    part = painter.paint(
        random_frame(3)[rows, cols].copy(), rects, at=(piece.x, piece.y), size=(200, 120)
    )
    assert np.array_equal(part, whole[rows, cols])


def test_a_read_only_piece_is_copied_only_when_a_mask_touches_it() -> None:
    painter = MaskPainter(LABEL)
    frame = random_frame(4)
    frame.flags.writeable = False
    corner = frame[:32, :32]
    assert painter.paint(corner, [Rect(100, 100, 20, 20)], size=(200, 120)) is corner
    touched = painter.paint(frame[96:, 96:], [Rect(100, 100, 20, 20)], at=(96, 96), size=(200, 120))
    assert touched.flags.writeable
    assert (touched[4:24, 4:24, 0] >= 0xB0).all()


@pytest.mark.parametrize("x", range(16))
def test_the_copied_label_is_the_inked_stripes_at_every_phase(x: int) -> None:
    # The label is copied in from a block made once per phase of the stripes: it must be
    # what inking the stripes (placed by the mask's top-left) pixel by pixel gives, for
    # every place of the label in its mask.
    ink = render_label("Geschützte Eingabe")
    lh, lw = ink.shape
    mask = Rect(3, 5, lw + 10 + 2 * x, lh + 6)  # the label at x + 5 in it
    out = MaskPainter("Geschützte Eingabe").paint(np.zeros((40, lw + 50, 4), np.uint8), [mask])
    ys, xs = np.mgrid[0:40, 0 : lw + 50]
    light = ((xs - mask.x + ys - mask.y) // 8) % 2 == 0
    want = np.where(light[..., None], np.uint8(0xD4), np.uint8(0xBC)).repeat(4, axis=2)
    want[..., 3] = 0xFF
    top, left = mask.y + (mask.height - lh) // 2, mask.x + (mask.width - lw) // 2
    want[top : top + lh, left : left + lw][ink] = (0x30, 0x30, 0x30, 0xFF)
    inside = (slice(mask.y, mask.bottom), slice(mask.x, mask.right))
    assert np.array_equal(out[inside], want[inside])


def test_a_mask_painted_alone_is_the_same_picture_everywhere() -> None:
    painter = MaskPainter(LABEL)
    alone = painter.alone(240, 40)
    assert not alone.flags.writeable
    for x, y in [(0, 0), (7, 13), (150, 80)]:
        frame = painter.paint(random_frame(x, 200, 400), [Rect(x, y, 240, 40)])
        assert np.array_equal(frame[y : y + 40, x : x + 240], alone)
    assert painter.alone(240, 40) is alone
