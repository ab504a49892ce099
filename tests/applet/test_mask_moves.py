"""What the damage-driven capture grabs again when its masks change (pure arithmetic)."""

from __future__ import annotations

from supportdesk.applet.screen.capture_loop import CopyOp, FrameDelta, FrameOp
from supportdesk.applet.screen.damage_capture import DamageCaptureLoop
from supportdesk.applet.screen.damage_pieces import (
    MAX_PIECES,
    drawn_pieces,
    fewer_rects,
    mask_moves,
    quiet_pieces,
)
from supportdesk.capture.screen_source import MemoryScreenSource
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
    pieces = drawn_pieces(moved, 0, 0, 640, 480)
    for r in moved:
        covered = sum(p.intersect(r).area for p in pieces)
        assert covered == r.area


def test_a_moved_mask_beside_a_scrolling_window_does_not_cut_it_into_bands() -> None:
    # A field moving over a terminal's right edge: merged with the drawing, its rows made
    # the terminal two pieces, each looked at for a scroll alone, the seam sent as pixels.
    window = Rect(0, 32, 928, 608)
    moved = mask_moves([Rect(792, 512, 316, 48)], [Rect(792, 592, 316, 48)])
    pieces = drawn_pieces([window], 0, 0, 1920, 1080, apart=moved)
    assert window in pieces
    for r in moved:
        assert sum(p.intersect(r).area for p in pieces) == r.area
    for i, p in enumerate(pieces):
        assert all(p.intersect(q).is_empty for q in pieces[i + 1 :])


def test_too_many_pieces_merge_with_the_moved_masks() -> None:
    drawn = [Rect(64 * i, 64 * (i % 2), 32, 32) for i in range(MAX_PIECES)]
    moved = [Rect(10, 300, 600, 40)]
    pieces = drawn_pieces(drawn, 0, 0, 2048, 480, apart=moved)
    assert len(pieces) <= MAX_PIECES
    for r in [*drawn, *moved]:
        assert sum(p.intersect(r).area for p in pieces) == r.area


FIELD = Rect(792, 512, 316, 48)


def test_a_wakes_damage_goes_after_its_copies_merged_and_the_copies_keep_their_order() -> None:
    copies = [
        CopyOp(Rect(0, 43, 928, 469), 0, 69),
        CopyOp(Rect(0, 512, 792, 48), 0, 538),
    ]
    ops: list[FrameOp] = [
        Rect(320, 0, 256, 32),  # a small piece (the clock)
        copies[0],
        Rect(792, 512, 136, 32),  # the field's new place, cut by a tile row ...
        copies[1],
        Rect(792, 544, 136, 16),
        Rect(928, 512, 180, 48),  # ... and by the edge of the drawn piece
    ]
    got = fewer_rects(ops, [FIELD])
    assert got[:2] == copies
    assert sorted(got[2:], key=lambda r: (r.y, r.x)) == [Rect(320, 0, 256, 32), FIELD]
    assert fewer_rects(copies, [FIELD]) == copies


def test_the_loop_hands_over_a_wakes_damage_merged() -> None:
    source = MemoryScreenSource(((0, 0, 1280, 720),))
    loop = DamageCaptureLoop(source, 0, polling_max_fps=30.0)
    loop.mask_rects = (FIELD,)
    frame = source.grab(0)
    parts: list[FrameOp] = [Rect(792, 512, 136, 32), Rect(792, 544, 136, 16)]
    loop._offer(FrameDelta(frame, [*parts, Rect(928, 512, 180, 48)]), frame)
    delta = loop.take()
    assert delta is not None and delta.ops == [FIELD]


def test_a_piece_only_a_mask_move_put_there_is_quiet_with_the_places_in_it() -> None:
    drawn = [Rect(10, 10, 40, 40)]  # root coordinates; the monitor's origin is (5, 0)
    moved = [A.translate(5, 0), B.translate(5, 0)]
    pieces = drawn_pieces(drawn, 5, 0, 640, 480, apart=moved)
    quiet = quiet_pieces(pieces, drawn, moved, 5, 0)
    assert len(quiet) == len(pieces) - 1  # not the one where something was drawn
    for piece, parts in quiet.items():
        assert parts and all(piece.contains(p) for p in parts)
        assert all(p in (A.intersect(piece), B.intersect(piece)) for p in parts)
    assert sum(p.area for parts in quiet.values() for p in parts) == A.area + B.area
    # Drawn across a place, the piece that holds it is compared as any other.
    across = [A.translate(5, 0)]
    pieces = drawn_pieces(across, 5, 0, 640, 480, apart=moved)
    quiet = quiet_pieces(pieces, across, moved, 5, 0)
    assert all(p.intersect(A).is_empty for p in quiet)
    assert any(not p.intersect(A).is_empty for p in pieces)
