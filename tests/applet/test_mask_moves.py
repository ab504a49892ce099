"""What the damage-driven capture grabs again when its masks change (pure arithmetic)."""

from __future__ import annotations

from supportdesk.applet.damage_capture import _drawn_pieces, mask_moves
from supportdesk.rfb.geometry import Rect

A, B = Rect(100, 100, 116, 36), Rect(300, 100, 116, 36)


def test_still_masks_cost_no_grab() -> None:
    assert mask_moves([], []) == []
    assert mask_moves([A, B], [B, A]) == []


def test_a_mask_that_appears_moves_or_goes_is_damage_where_it_was_and_where_it_is() -> None:
    assert mask_moves([], [A]) == [A]  # appears: painted
    assert mask_moves([A], []) == [A]  # goes: what it hid is grabbed
    assert mask_moves([A], [B]) == [A, B]  # moves: both
    assert mask_moves([A, B], [B]) == [A, B]


def test_the_grabbed_pieces_cover_every_moved_mask_rectangle() -> None:
    moved = mask_moves([A], [B])
    pieces = _drawn_pieces(moved, 0, 0, 640, 480)
    for r in moved:
        covered = sum(p.intersect(r).area for p in pieces)
        assert covered == r.area
