"""A damage-driven wake's moved masks: copied from where the viewer holds their picture
(checked pixel for pixel), after the scroll's copies, else sent as damage."""

from __future__ import annotations

import numpy as np

from supportdesk.applet.screen.capture_loop import CopyOp, FrameOp
from supportdesk.applet.screen.damage_masks import copy_masks, copyable_masks, outside
from supportdesk.capture.mask import MaskPainter
from supportdesk.capture.mask_copies import MaskCopy
from supportdesk.capture.screen_source import Frame
from supportdesk.rfb.geometry import Rect

PAINTER = MaskPainter("Geschützte Eingabe")
WAS, NOW = Rect(40, 100, 136, 36), Rect(48, 20, 136, 36)


def held() -> Frame:
    """What the viewer holds: text, with the field's mask where it was."""
    frame = np.random.default_rng(3).integers(0, 200, (200, 320, 4), dtype=np.uint8)
    return PAINTER.paint(frame, [WAS])


def test_a_mask_is_copied_only_from_where_the_viewer_holds_its_picture() -> None:
    mirror = held()
    assert copyable_masks(PAINTER, mirror, [WAS], [NOW]) == [MaskCopy(48, 20, 136, 36, 40, 100)]
    assert copyable_masks(PAINTER, mirror, [WAS], [WAS]) == []  # it stood still
    mirror[110, 60] = (1, 2, 3, 255)  # the viewer's copy is not the mask's picture there
    assert copyable_masks(PAINTER, mirror, [WAS], [NOW]) == []


def test_the_copy_follows_the_scrolls_copies_and_goes_before_the_damage() -> None:
    mirror = held()
    moves = copyable_masks(PAINTER, mirror, [WAS], [NOW])
    scroll = CopyOp(Rect(0, 0, 320, 180), 0, 20)  # up by 20: carries the old place whole
    ops: list[FrameOp] = [scroll, Rect(0, 180, 320, 20), Rect(48, 20, 136, 36)]
    patches: list[tuple[Rect, Frame]] = []
    copy_masks(PAINTER, moves, mirror, ops, patches)
    # the damage inside the new place is not sent: the copy, from where the scroll put it
    assert ops == [scroll, CopyOp(NOW, 40, 80), Rect(0, 180, 320, 20)]
    alone = PAINTER.alone(NOW.width, NOW.height)
    assert np.array_equal(mirror[20:56, 48:184], alone)
    assert patches[-1][0] == NOW and np.array_equal(patches[-1][1], alone)


def test_a_source_a_scroll_wrote_over_without_carrying_it_is_sent_as_damage() -> None:
    mirror = held()
    moves = copyable_masks(PAINTER, mirror, [WAS], [NOW])
    scroll = CopyOp(Rect(0, 90, 320, 20), 0, 150)  # writes rows 90-110 from below
    ops: list[FrameOp] = [scroll]
    copy_masks(PAINTER, moves, mirror, ops, [])
    assert ops == [scroll, NOW]
    assert np.array_equal(mirror[20:56, 48:184], PAINTER.alone(NOW.width, NOW.height))


def test_a_quiet_pieces_parts_leave_out_the_copied_place() -> None:
    moves = [MaskCopy(48, 20, 136, 36, 40, 100)]
    parts = [Rect(32, 0, 192, 64)]
    got = outside(parts, moves)
    assert got is not None and all(p.intersect(NOW).is_empty for p in got)
    assert sum(p.area for p in got) == parts[0].area - NOW.area
    assert outside(None, moves) is None and outside(parts, []) == parts
