"""Damage merged into fewer rectangles: every pixel still covered, stripes never joined
with the picture around them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.capture.damage_merge import MERGE_SLACK, merge_damage
from supportdesk.rfb.geometry import Rect

FIELD = Rect(792, 512, 316, 48)  # a secret field's mask where it came (bench.masking)


def covered(rects: list[Rect], width: int = 1200, height: int = 700) -> np.ndarray:
    grid = np.zeros((height, width), dtype=bool)
    for r in rects:
        grid[r.y : r.bottom, r.x : r.right] = True
    return grid


def test_a_masks_place_cut_by_grabs_and_tiles_goes_as_one_rectangle() -> None:
    # The field's new place as the damage path cut it: at the edge of the drawn piece
    # (x = 928) and at a 64-row tile (y = 544).
    parts = [Rect(792, 512, 136, 32), Rect(792, 544, 136, 16), Rect(928, 512, 180, 48)]
    assert merge_damage(parts, [FIELD]) == [FIELD]


def test_the_text_where_a_mask_went_joins_the_text_beside_it() -> None:
    was = Rect(792, 592, 316, 48)  # no longer masked: text again
    parts = [Rect(0, 592, 792, 48), Rect(792, 592, 136, 48), Rect(928, 592, 180, 48)]
    assert merge_damage(parts, [FIELD]) == [Rect(0, 592, 1108, 48)]
    assert was.contains(parts[1])


def test_stripes_are_never_joined_with_the_picture_around_them() -> None:
    text_above = Rect(792, 480, 316, 32)  # touches the mask: the box would be exact
    got = merge_damage([text_above, FIELD], [FIELD])
    assert sorted(got, key=lambda r: r.y) == [text_above, FIELD]
    # Nor is text joined across a mask (the box would carry its stripes), whatever the slack.
    left, right = Rect(700, 520, 92, 32), Rect(1108, 520, 60, 32)
    got = merge_damage([left, right], [FIELD], slack=1 << 20)
    assert sorted(got, key=lambda r: r.x) == [left, right]
    assert merge_damage([left, right], [], slack=1 << 20) == [Rect(700, 520, 468, 32)]


def test_a_rectangle_partly_in_a_mask_stays_as_it_is() -> None:
    straddling = Rect(700, 500, 200, 40)
    beside = Rect(900, 500, 100, 10)
    assert straddling in merge_damage([straddling, beside], [FIELD])


def test_boxes_that_add_more_than_the_slack_are_not_made() -> None:
    a, b = Rect(0, 0, 64, 64), Rect(128, 0, 64, 64)  # the box adds one 64x64 tile
    assert merge_damage([a, b], [], slack=MERGE_SLACK) == [Rect(0, 0, 192, 64)]
    assert len(merge_damage([a, b], [], slack=MERGE_SLACK - 1)) == 2
    far = Rect(1000, 600, 10, 10)
    assert far in merge_damage([a, b, far], [])


rects = st.builds(
    Rect, st.integers(0, 1100), st.integers(0, 600), st.integers(1, 200), st.integers(1, 100)
)


@settings(max_examples=200, deadline=None)
@given(damage=st.lists(rects, max_size=12), masks=st.lists(rects, max_size=3))
def test_every_pixel_stays_covered_and_no_box_mixes_stripes_and_picture(
    damage: list[Rect], masks: list[Rect]
) -> None:
    got = merge_damage(damage, masks)
    assert len(got) <= len(damage)
    assert not (covered(damage) & ~covered(got)).any()
    for r in got:
        if r in damage:
            continue
        # A made box lies wholly inside a mask or touches none.
        assert any(m.contains(r) for m in masks) or all(m.intersect(r).is_empty for m in masks)
