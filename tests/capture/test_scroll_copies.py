"""Scroll copies around masks: the viewer's picture is the masked current frame, pixel for
pixel, no copy reads from or writes into a still mask, and none carries a masked pixel."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.capture.damage import Rect as DamageRect
from supportdesk.capture.damage import (
    VerticalScroll,
    changed_tiles,
    detect_damage,
    detect_vertical_scroll,
)
from supportdesk.capture.mask import MaskPainter
from supportdesk.capture.mask_copies import MaskCopy, after_scroll, mask_copies
from supportdesk.capture.scroll_copies import (
    MAX_PIECES,
    Copy,
    MaskPlaces,
    _Held,
    _outside_still_masks,
    apply_copies,
    copies_around,
    frame_changes,
)
from supportdesk.rfb.geometry import Rect

H, W = 400, 480
SECRET = (7, 77, 177, 255)  # BGRX: what the customer types under a mask, never sent
REGION = Rect(16, 32, 448, 320)  # the scrolling window


def text(height: int, width: int, seed: int) -> np.ndarray:
    """Lines of random 'glyphs' (no SECRET pixel) on white, a blank row gap between them."""
    rng = np.random.default_rng(seed)
    img = np.full((height + 16, width, 4), 255, dtype=np.uint8)
    for y in range(0, height, 16):
        img[y : y + 12, 4 : width - 4] = rng.integers(0, 6, (12, width - 8, 1), np.uint8) * 40
    return img[:height]


def scrolled(shift: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two screens (unmasked): the region's text moved up by ``shift`` rows (down if < 0)."""
    long = text(REGION.height + abs(shift), REGION.width, seed)
    before, after = np.full((H, W, 4), 90, np.uint8), np.full((H, W, 4), 90, np.uint8)
    ys, xs = slice(REGION.y, REGION.bottom), slice(REGION.x, REGION.right)
    top = max(shift, 0)
    before[ys, xs] = long[abs(shift) - top : abs(shift) - top + REGION.height]
    after[ys, xs] = long[top : top + REGION.height]
    return before, after


def masked(screen: np.ndarray, masks: Sequence[Rect]) -> np.ndarray:
    """The screen as captured: the secret typed under every mask, then the masks painted."""
    out = screen.copy()
    for m in masks:
        out[m.y : m.bottom, m.x : m.right] = SECRET
    return MaskPainter("Geschützte Eingabe").paint(out, masks)


def secrets(frame: np.ndarray) -> int:
    return int((frame == np.array(SECRET, np.uint8)).all(axis=2).sum())


def viewer_after(
    previous: np.ndarray,
    current: np.ndarray,
    masks_before: list[Rect],
    masks_now: list[Rect],
    *,
    places: bool = True,
) -> tuple[np.ndarray, list[Copy], list]:
    """What a viewer holding ``previous`` holds after the copies and the damage, checked
    copy by copy: no scroll copy reads or writes a mask at the same place in both (a
    still one); a mask copy (after the scroll's) reads a whole mask of the held picture
    (where it was, or where the scroll carried it) and writes a whole new mask with
    exactly the pixels the current frame has there; none carries a secret pixel.
    ``places``: the masks given as :class:`MaskPlaces` (as both loops do), else as one
    list of both, when no copy may read or write any of them."""
    both = [*masks_before, *masks_now]
    masks = MaskPlaces(tuple(masks_before), tuple(masks_now)) if places else both
    copies, damage = frame_changes(previous, current, masks=masks)
    tiles = changed_tiles(previous, current)
    fb = previous.copy()
    shifts = {0, *(c.dst_y - c.src_y for c in copies if isinstance(c, VerticalScroll))}
    for i, c in enumerate(copies):
        if isinstance(c, MaskCopy):
            assert places, "mask copies only when told which picture held which mask"
            assert all(isinstance(d, MaskCopy) for d in copies[i:]), "after the scroll's"
            # a whole new mask, or a column of one (a scroll carried that column of its
            # source); read from a mask of the held picture, where it was or was carried
            new = [m for m in masks_now if m.contains(c.dst) and m not in masks_before]
            assert new and c.dst.height == new[0].height
            assert any(
                m.contains(c.src.translate(0, -k)) and m.height == c.height
                for m in masks_before
                for k in shifts
            )
            src, dst = c.src, c.dst
        else:
            src = Rect(c.x, c.src_y, c.width, c.height)
            dst = Rect(c.x, c.dst_y, c.width, c.height)
            for m in set(masks_before) & set(masks_now) if places else both:
                assert src.intersect(m).is_empty, f"{c} reads mask {m}"
                assert dst.intersect(m).is_empty, f"{c} writes into mask {m}"
        # Every copy lands on something that changed (64-pixel tiles).
        assert tiles[dst.y // 64 : -(-dst.bottom // 64), dst.x // 64 : -(-dst.right // 64)].any()
        assert secrets(fb[src.y : src.bottom, src.x : src.right]) == 0
        fb[dst.y : dst.bottom, dst.x : dst.right] = fb[src.y : src.bottom, src.x : src.right].copy()
        if isinstance(c, MaskCopy):
            # What the viewer holds at the source is the new place's masked picture.
            assert np.array_equal(fb[dst.y : dst.bottom, dst.x : dst.right], cur_at(current, dst))
        else:  # each copy lands what the previous picture held at its source (order)
            assert np.array_equal(
                fb[dst.y : dst.bottom, dst.x : dst.right],
                previous[src.y : src.bottom, src.x : src.right],
            )
        assert secrets(fb) == 0
    for r in damage:
        fb[r.y : r.y + r.height, r.x : r.x + r.width] = current[
            r.y : r.y + r.height, r.x : r.x + r.width
        ]
    return fb, copies, damage


def cur_at(frame: np.ndarray, r: Rect) -> np.ndarray:
    return frame[r.y : r.bottom, r.x : r.right]


def sent(damage: list) -> int:
    return sum(r.width * r.height for r in damage)


@pytest.mark.parametrize("shift", [13, 26, -13])
def test_a_still_mask_inside_scrolling_text_keeps_the_copy(shift: int) -> None:
    field = [Rect(150, 150, 160, 40)]
    a, b = scrolled(shift)
    prev, cur = masked(a, field), masked(b, field)
    fb, copies, damage = viewer_after(prev, cur, field, field)
    assert np.array_equal(fb, cur)
    assert 1 < len(copies) <= MAX_PIECES
    assert all(c.dst_y - c.src_y == -shift for c in copies)
    # Only the text that comes out from under the mask (and the new lines) is sent:
    # far less than when the mask is ignored and the copy stops at it.
    ignored = frame_changes(prev, cur)[1]
    assert sent(damage) * 2 < sent(ignored)
    # The still mask is not sent again: the viewer has its stripes already.
    assert all(Rect(*r).intersect(field[0]).is_empty for r in damage)


def test_a_large_still_mask_over_the_new_lines_is_not_sent_again() -> None:
    rule = [Rect(100, 250, 300, 150)]  # over the bottom of the window, where lines come
    a, b = scrolled(13)
    prev, cur = masked(a, rule), masked(b, rule)
    fb, copies, damage = viewer_after(prev, cur, rule, rule)
    assert np.array_equal(fb, cur)
    assert copies and damage
    assert all(Rect(*r).intersect(rule[0]).is_empty for r in damage)


def test_damage_leaves_out_a_still_mask_it_would_carry_whole() -> None:
    # Damage merged over a mask (too many rectangles collapse into their bounds).
    rule = Rect(100, 100, 300, 200)
    a, b = scrolled(13)
    prev, cur = masked(a, [rule]), masked(b, [rule])
    tiles = changed_tiles(prev, cur)
    whole = [DamageRect(0, 0, W, H)]
    parts = _outside_still_masks(whole, tiles, _Held(prev), cur, [rule])
    assert all(Rect(*p).intersect(rule).is_empty for p in parts)
    fb = prev.copy()
    for p in parts:
        fb[p.y : p.y + p.height, p.x : p.x + p.width] = cur[
            p.y : p.y + p.height, p.x : p.x + p.width
        ]
    assert np.array_equal(fb, cur)
    # A mask whose stripes changed (it moved) is not left out: it is sent as a rectangle
    # of its own (the encoder codes the stripes apart from the text around them).
    moved = masked(b, [rule.translate(0, 20)])
    parts = _outside_still_masks(whole, changed_tiles(prev, moved), _Held(prev), moved, [rule])
    assert rule in [Rect(*p) for p in parts]
    assert all(rule.contains(Rect(*p)) or Rect(*p).intersect(rule).is_empty for p in parts)
    fb = prev.copy()
    for p in parts:
        fb[p.y : p.y + p.height, p.x : p.x + p.width] = moved[
            p.y : p.y + p.height, p.x : p.x + p.width
        ]
    assert np.array_equal(fb, moved)


@pytest.mark.parametrize(
    "field",
    [
        Rect(0, 100, 120, 40),  # over the region's left edge
        Rect(400, 200, 80, 30),  # over its right edge
        Rect(100, 10, 200, 40),  # over its top
        Rect(100, 330, 200, 50),  # over its bottom
        Rect(16, 120, 448, 40),  # across its whole width
    ],
)
def test_masks_over_the_scrolling_regions_edges(field: Rect) -> None:
    a, b = scrolled(16)
    prev, cur = masked(a, [field]), masked(b, [field])
    fb, copies, _ = viewer_after(prev, cur, [field], [field])
    assert np.array_equal(fb, cur)
    assert copies


def test_a_mask_covering_the_scrolling_region_wholly_needs_no_copy() -> None:
    rule = [Rect(0, 16, W, 360)]
    a, b = scrolled(16)
    prev, cur = masked(a, rule), masked(b, rule)
    fb, copies, damage = viewer_after(prev, cur, rule, rule)
    assert np.array_equal(fb, cur)
    assert copies == [] and damage == []


def test_several_masks() -> None:
    masks = [Rect(40, 60, 100, 30), Rect(300, 100, 120, 60), Rect(200, 250, 60, 60)]
    a, b = scrolled(15)
    prev, cur = masked(a, masks), masked(b, masks)
    fb, copies, damage = viewer_after(prev, cur, masks, masks)
    assert np.array_equal(fb, cur)
    assert copies
    assert sent(damage) * 2 < sent(frame_changes(prev, cur)[1])


@pytest.mark.parametrize("places", [True, False])
def test_a_mask_that_moves_while_the_text_scrolls(places: bool) -> None:
    was, now = [Rect(150, 150, 160, 40)], [Rect(150, 190, 160, 40)]
    a, b = scrolled(13)
    prev, cur = masked(a, was), masked(b, now)
    fb, copies, _ = viewer_after(prev, cur, was, now, places=places)
    assert np.array_equal(fb, cur)
    assert copies


@pytest.mark.parametrize("shift", [26, -26])
def test_a_moved_mask_does_not_cut_the_copy(shift: int) -> None:
    # Told which picture held which mask, the scroll's copy goes through the places of a
    # mask that moved (its old stripes land on the text, text lands in its new place):
    # one copy instead of pieces around both places (bench.masking, a field moving over
    # scrolling text on every wake-up). The mask, the same size at its new place, is then
    # copied there from where the scroll carried its old place: only the text it left
    # is sent.
    was, now = [Rect(150, 230, 160, 40)], [Rect(150, 110, 160, 40)]
    a, b = scrolled(shift)
    prev, cur = masked(a, was), masked(b, now)
    fb, copies, damage = viewer_after(prev, cur, was, now)
    assert np.array_equal(fb, cur) and secrets(fb) == 0
    scrolls = [c for c in copies if isinstance(c, VerticalScroll)]
    assert len(scrolls) == 1
    assert copies[1:] == [MaskCopy(150, 110, 160, 40, 150, 230 - shift)]
    old_fb, old_copies, old_damage = viewer_after(prev, cur, was, now, places=False)
    assert np.array_equal(old_fb, cur)
    assert len(old_copies) > 1
    assert sent(damage) < sent(old_damage)
    assert all(Rect(*r).intersect(now[0]).is_empty for r in damage)  # copied, not sent


def test_a_moved_mask_is_copied_not_sent() -> None:
    # No scroll: the field moves by 8 pixels (a dragged window) over still text.
    screen = scrolled(13)[0]
    for was, now in [
        (Rect(150, 230, 160, 40), Rect(158, 230, 160, 40)),  # overlapping
        (Rect(150, 230, 160, 40), Rect(20, 60, 160, 40)),  # far
    ]:
        prev, cur = masked(screen, [was]), masked(screen, [now])
        fb, copies, damage = viewer_after(prev, cur, [was], [now])
        assert np.array_equal(fb, cur) and secrets(fb) == 0
        assert copies == [MaskCopy(now.x, now.y, now.width, now.height, was.x, was.y)]
        assert damage and all(Rect(*r).intersect(now).is_empty for r in damage)
        assert sent(damage) <= was.area  # the text it uncovered, nothing of the mask


@pytest.mark.parametrize(
    ("was", "now"),
    [
        ([Rect(150, 230, 160, 40)], [Rect(150, 100, 160, 44)]),  # resized
        (
            [Rect(150, 230, 160, 40)],
            [Rect(150, 100, 160, 40), Rect(200, 120, 50, 50)],
        ),  # overlapped
        ([Rect(150, 230, 160, 40), Rect(200, 250, 50, 50)], [Rect(150, 100, 160, 40)]),  # was
    ],
)
def test_a_mask_that_is_not_its_own_picture_on_both_sides_is_sent(
    was: list[Rect], now: list[Rect]
) -> None:
    screen = scrolled(13)[0]
    prev, cur = masked(screen, was), masked(screen, now)
    fb, copies, damage = viewer_after(prev, cur, was, now)
    assert np.array_equal(fb, cur) and secrets(fb) == 0
    assert not any(isinstance(c, MaskCopy) for c in copies)
    assert any(Rect(*r).intersect(now[0]) == Rect(*r) for r in damage)


def test_no_secret_reaches_the_viewer_through_a_copy() -> None:
    # The mask stands still while the text scrolls; under it, the customer types.
    field = [Rect(150, 150, 160, 40)]
    screens = [scrolled(13 * i, seed=3)[1] for i in range(6)]
    fb = masked(screens[0], field)
    for before, after in itertools.pairwise(screens):
        prev, cur = masked(before, field), masked(after, field)
        assert np.array_equal(fb, prev)
        fb, copies, _ = viewer_after(prev, cur, field, field)
        assert copies and np.array_equal(fb, cur) and secrets(fb) == 0
    # Where a copy of the whole band would have carried the mask's stripes onto the text.
    moved = detect_vertical_scroll(prev, cur, masks=field)
    assert moved is not None
    whole = apply_copies(prev, [moved])
    assert not np.array_equal(whole[110:150, 150:310], cur[110:150, 150:310])


def test_the_scroll_is_found_past_a_still_mask_only_when_told() -> None:
    field = [Rect(150, 150, 160, 40)]
    a, b = scrolled(16)
    prev, cur = masked(a, field), masked(b, field)
    told = detect_vertical_scroll(prev, cur, masks=field)
    blind = detect_vertical_scroll(prev, cur)
    assert told is not None and blind is not None
    assert told.dst_y - told.src_y == -16
    assert told.height >= REGION.height - 16 - 12  # the whole band, past the mask
    assert blind.height < told.height


def test_copies_are_ordered_so_that_none_reads_what_another_wrote() -> None:
    # Up: the topmost piece first; down: the lowest first.
    for shift in (-24, 24):
        scroll = VerticalScroll(0, 100, 100 - shift, 100, 200)
        pieces = copies_around(scroll, [Rect(40, 180, 20, 30)])
        assert len(pieces) == 4
        tops = [p.dst_y for p in pieces]
        assert tops == sorted(tops, reverse=shift > 0)
        frame = text(400, 100, seed=5)
        done = apply_copies(frame, pieces)
        for p in pieces:
            assert np.array_equal(
                done[p.dst_y : p.dst_y + p.height, p.x : p.x + p.width],
                frame[p.src_y : p.src_y + p.height, p.x : p.x + p.width],
            )


def test_without_masks_the_scroll_is_one_copy() -> None:
    scroll = VerticalScroll(10, 100, 50, 30, 200)
    assert copies_around(scroll, []) == [scroll]
    assert copies_around(scroll, [Rect(300, 0, 10, 10)]) == [scroll]


def test_too_many_pieces_keep_the_largest() -> None:
    scroll = VerticalScroll(0, 400, 16, 0, 300)
    masks = [Rect(20 + 40 * i, 30 + 25 * i, 10, 10) for i in range(9)]
    pieces = copies_around(scroll, masks)
    assert len(pieces) == MAX_PIECES
    a, b = scrolled(16)
    prev, cur = masked(a, masks), masked(b, masks)
    fb, _, _ = viewer_after(prev, cur, masks, masks)
    assert np.array_equal(fb, cur)


rects = st.builds(
    Rect,
    st.integers(-20, W - 10),
    st.integers(-20, H - 10),
    st.integers(4, 300),
    st.integers(4, 200),
)


@settings(max_examples=120, deadline=None)
@given(
    shift=st.integers(-40, 40).filter(lambda s: s != 0),
    was=st.lists(rects, max_size=3),
    moves=st.lists(st.tuples(st.integers(-30, 30), st.integers(-30, 30)), max_size=3),
    sizes=st.lists(st.sampled_from([(0, 0), (0, 0), (4, 0), (0, -3)]), max_size=3),
    seed=st.integers(0, 5),
)
def test_the_viewer_always_ends_at_the_masked_current_frame(
    shift: int,
    was: list[Rect],
    moves: list[tuple[int, int]],
    sizes: list[tuple[int, int]],
    seed: int,
) -> None:
    # Masks that stay, move (most keeping their size: copied), grow or shrink, all
    # while the text scrolls; overlapping ones too. viewer_after checks every copy.
    frame = Rect(0, 0, W, H)
    was = [r.intersect(frame) for r in was if not r.intersect(frame).is_empty]
    now = [r.translate(*moves[i]) if i < len(moves) else r for i, r in enumerate(was)]
    now = [
        Rect(r.x, r.y, r.width + sizes[i][0], r.height + sizes[i][1]) if i < len(sizes) else r
        for i, r in enumerate(now)
    ]
    now = [r.intersect(frame) for r in now if not r.intersect(frame).is_empty]
    a, b = scrolled(shift, seed)
    prev, cur = masked(a, was), masked(b, now)
    fb, copies, damage = viewer_after(prev, cur, was, now)
    assert np.array_equal(fb, cur)
    assert secrets(fb) == 0
    if not detect_damage(prev, cur):
        assert damage == []
    for c in copies:  # a copied mask's new place is never sent as pixels too
        if isinstance(c, MaskCopy):
            assert all(Rect(*r).intersect(c.dst).is_empty for r in damage)


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(-8, 8), st.integers(-6, 6), st.integers(-20, 20)),
        min_size=2,
        max_size=6,
    ),
)
def test_a_field_dragged_over_scrolling_text_never_shows_a_secret(
    steps: list[tuple[int, int, int]],
) -> None:
    # Frame after frame, as the polling loop: the field moves, the text scrolls, the
    # customer types under the field; the viewer follows the copies and the damage.
    field = Rect(150, 150, 160, 40)
    offset = 0
    screen = scrolled(0, seed=2)[1]
    prev = masked(screen, [field])
    fb = prev.copy()
    for dx, dy, k in steps:
        moved = field.translate(dx, dy)
        offset += k
        screen = scrolled(offset, seed=2)[1] if offset > 0 else scrolled(-offset or 1, seed=2)[0]
        cur = masked(screen, [moved])
        fb2, _, _ = viewer_after(prev, cur, [field], [moved])
        assert np.array_equal(fb2, cur) and secrets(fb2) == 0
        fb, prev, field = fb2, cur, moved
    assert np.array_equal(fb, prev)


def test_the_viewers_picture_after_the_copies_is_the_previous_with_the_band() -> None:
    prev, band = text(128, 128, 1), text(64, 64, 2)
    held = _Held(prev, ((Rect(64, 64, 64, 64), band),))
    cur = prev.copy()
    cur[64:128, 64:128] = band
    assert not held.differs(cur, Rect(32, 32, 96, 96))  # partly in the band
    assert held.differs(prev, Rect(32, 32, 96, 96))
    assert not held.differs(cur, Rect(0, 0, 32, 32)) and not held.differs(prev, Rect(0, 0, 32, 32))
    assert held.differs(prev, Rect(70, 70, 8, 8))  # wholly in the band


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[Rect]:
    """Every area the held picture compares pixel for pixel, in order."""
    areas: list[Rect] = []
    differs = _Held.differs

    def counting(self: _Held, current: np.ndarray, area: Rect) -> bool:
        areas.append(area)
        return differs(self, current, area)

    monkeypatch.setattr(_Held, "differs", counting)
    return areas


def test_a_still_mask_and_changed_tiles_inside_a_part_are_not_compared_pixel_for_pixel(
    compared: list[Rect],
) -> None:
    # A window rule standing still over changing text (bench.masking, polling path):
    # its part of the damage is the same in both pictures by painting, and the parts
    # beside it hold changed tiles wholly (comparing them took most of 0.8 ms a frame).
    rule = Rect(200, 150, 120, 60)
    a, b = scrolled(13)
    prev, cur = masked(a, [rule]), masked(b, [rule])
    for scroll in (True, False):
        compared.clear()
        copies, damage = frame_changes(prev, cur, scroll=scroll, masks=MaskPlaces((rule,), (rule,)))
        assert damage and bool(copies) == scroll
        # Neither the rule's part nor a part with a whole 64x64 tile inside was compared.
        for r in compared:
            assert r.intersect(rule).is_empty
            assert -(-r.x // 64) * 64 + 64 > r.right or -(-r.y // 64) * 64 + 64 > r.bottom
        fb = apply_copies(prev, copies)
        for r in damage:
            ys, xs = slice(r.y, r.y + r.height), slice(r.x, r.x + r.width)
            fb[ys, xs] = cur[ys, xs]
        assert np.array_equal(fb, cur)
        assert all(Rect(*r).intersect(rule).is_empty for r in damage)
        # Given as a plain list (a mask maybe in only one picture), its part is compared.
        compared.clear()
        assert frame_changes(prev, cur, scroll=scroll, masks=[rule]) == (copies, damage)
        assert any(rule.contains(r) for r in compared)


def test_a_moved_masks_label_is_compared_even_where_its_clipped_places_look_alike() -> None:
    # Clipped to a piece, a mask that moved down by 20 rows can look still; its label
    # moved, so the piece's part of it must be compared (and sent).
    was, now = Rect(0, 0, 300, 100), Rect(0, 20, 300, 100)
    piece = Rect(0, 40, 300, 60)
    inside = MaskPlaces((was,), (now,)).within(piece)
    assert inside.before == inside.now and inside.still() == []
    assert MaskPlaces((was,), (was,)).within(piece).still() == [Rect(0, 0, 300, 60)]


def test_no_part_of_a_moved_mask_is_compared_twice(compared: list[Rect]) -> None:
    was, now = [Rect(150, 230, 160, 40)], [Rect(150, 110, 160, 44)]  # resized: sent
    a, b = scrolled(26)
    prev, cur = masked(a, was), masked(b, now)
    fb, _, damage = viewer_after(prev, cur, was, now)
    assert np.array_equal(fb, cur)
    assert any(now[0].contains(Rect(*r)) for r in damage)  # the stripes, apart
    assert compared and len(compared) == len(set(compared))


def test_the_copy_is_narrowed_to_the_columns_that_changed_so_a_rule_aside_does_not_cut_it() -> None:
    # The text scrolls in columns 0-320; a clock changes above a window rule that
    # stands beside the text, where nothing is drawn. The changed tiles' bounds span
    # both: the copy is narrowed to the columns that changed in its rows, so it goes
    # whole past the rule (polling path of bench.masking: 1.89 copies a frame, 0.94 off).
    a, b = scrolled(13)
    for frame, ink in ((a, 10), (b, 200)):
        frame[:, 320:] = 90
        frame[0:16, 400:464] = ink  # the clock
    rule = [Rect(330, 200, 140, 150)]
    prev, cur = masked(a, rule), masked(b, rule)
    fb, copies, damage = viewer_after(prev, cur, rule, rule)
    assert np.array_equal(fb, cur)
    assert len(copies) == 1 and copies[0].x + copies[0].width <= 320
    assert all(Rect(*r).intersect(rule[0]).is_empty for r in damage)


def test_a_field_over_the_edge_of_a_scroll_is_copied_in_columns() -> None:
    # The scroll's copy ends at column 300 (as a damage-driven piece ends at the text's
    # edge); the field that moved stands across it: the column the scroll carried is read
    # where it went, the rest where it was.
    was, now = Rect(250, 230, 120, 40), Rect(250, 110, 120, 40)
    moves = mask_copies([was], [now])
    assert moves == [MaskCopy(250, 110, 120, 40, 250, 230)]
    scroll = (Rect(0, 26, 300, 300), Rect(0, 0, 300, 300))  # up by 26 rows
    (parts,) = after_scroll(moves, [scroll])
    assert parts == [MaskCopy(250, 110, 50, 40, 250, 204), MaskCopy(300, 110, 70, 40, 300, 230)]
    # A source the scroll wrote over without carrying it whole: no copy.
    assert after_scroll(moves, [(Rect(0, 250, 300, 100), Rect(0, 224, 300, 100))]) == [[]]


def test_a_field_moved_by_less_than_its_width_is_not_copied_in_columns() -> None:
    # Moved one pixel to the right and cut at column 20 by a scroll's edge (elsewhere on
    # the screen): the first column's copy would write the second's source before it is
    # read (found by the hypothesis test above in a clean-clone run). One whole copy may
    # overlap itself; parts of one may not, so the new place is sent as pixels.
    was, now = Rect(0, 0, 21, 5), Rect(1, 0, 21, 5)
    moves = mask_copies([was], [now])
    assert moves == [MaskCopy(1, 0, 21, 5, 0, 0)]
    assert after_scroll(moves, []) == [moves]  # whole: a CopyRect reads before it writes
    scroll = (Rect(20, 226, 300, 100), Rect(20, 200, 300, 100))  # its edge at column 20
    assert after_scroll(moves, [scroll]) == [[]]
