"""Which columns the scroll vote samples when masks stand in the changed band: a mask over
most of the band's rows is left out, so a window rule beside sparse scrolling text does
not hide the scroll (bench.masking's polling path had lost it)."""

from __future__ import annotations

import numpy as np

from supportdesk.capture.damage import _sample_columns, detect_vertical_scroll
from supportdesk.capture.mask import MaskPainter
from supportdesk.capture.scroll_copies import frame_changes
from supportdesk.rfb.geometry import Rect

H, W = 400, 960
TEXT = Rect(0, 0, 240, H)  # a terminal: sparse glyphs on black, scrolling
RULE = Rect(240, 40, 600, 360)  # a window rule beside it, over most of the rows
PICTURE = Rect(840, 0, 120, 150)  # an animation: changes in every frame, no scroll


def sparse_text(height: int, seed: int) -> np.ndarray:
    """Lines of 16 rows, a few glyph pixels a row (one column in 32, as a terminal's)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, TEXT.width, 4), np.uint8)
    for y in range(0, height - 16, 16):
        for row in range(y + 2, y + 12):
            img[row, rng.choice(TEXT.width, TEXT.width // 32, replace=False)] = 230
    return img


def screens(shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Two masked screens: the text moved up by ``shift`` rows, the animation changed."""
    long = sparse_text(H + shift, seed=4)
    rng = np.random.default_rng(9)
    out = []
    for top in (0, shift):
        screen = np.full((H, W, 4), 40, np.uint8)
        screen[:, : TEXT.width] = long[top : top + H]
        p = PICTURE
        screen[p.y : p.bottom, p.x : p.right] = rng.integers(0, 255, (p.height, p.width, 4))
        out.append(MaskPainter("Geschützte Eingabe").paint(screen, [RULE]))
    return out[0], out[1]


def test_a_mask_over_most_rows_is_not_sampled() -> None:
    cols = _sample_columns(0, 0, W, H, [RULE, RULE])  # given twice: both frames' masks
    assert not np.isin(np.arange(RULE.x, RULE.right), cols).any()
    assert np.isin(np.arange(0, RULE.x), cols).all()
    assert np.isin(np.arange(RULE.right, W), cols).all()


def test_a_small_field_keeps_its_columns() -> None:
    field = Rect(300, 200, 300, 48)  # 48 of 400 rows: it blanks only its own rows
    assert np.array_equal(_sample_columns(0, 0, W, H, [field]), np.arange(W))


def test_a_mask_over_everything_leaves_every_column() -> None:
    assert np.array_equal(_sample_columns(10, 0, 50, H, [Rect(0, 0, W, H)]), np.arange(10, 50))


def test_the_scroll_beside_a_window_rule_is_found() -> None:
    before, after = screens(16)
    found = detect_vertical_scroll(before, after, masks=[RULE, RULE], bounds=(0, 0, W, H))
    assert found is not None
    assert found.dst_y - found.src_y == -16
    copies, damage = frame_changes(before, after, masks=[RULE, RULE])
    assert copies
    held = before.copy()
    for c in copies:
        held[c.dst_y : c.dst_y + c.height, c.x : c.x + c.width] = before[
            c.src_y : c.src_y + c.height, c.x : c.x + c.width
        ]
    for r in damage:
        held[r.y : r.y + r.height, r.x : r.x + r.width] = after[
            r.y : r.y + r.height, r.x : r.x + r.width
        ]
    assert np.array_equal(held, after)
