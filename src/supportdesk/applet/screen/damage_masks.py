"""A damage-driven wake's moved masks: which new places to copy, and the copies themselves.

A mask that moved keeping its size is the same picture at its new place
(:mod:`supportdesk.capture.mask_copies`). The damage-driven loop compares a wake piece by
piece, and a mask's old and new places often lie in different pieces (its places are
pieces of their own beside the drawing), so the copy is made for the whole wake: before
the pieces, :func:`copyable_masks` says which new places the viewer's picture (the
loop's mirror) can give: those are not grabbed (:func:`not_copied`; their pixels are
the mask's picture), and the pieces leave them out (neither compared nor sent); after
them, :func:`copy_masks` hands on each as CopyRects after the pieces' scroll copies (one
per column of its source that a scroll copy carried or left alone), or, where a scroll
copy wrote over part of the source, as damage. Used by
:class:`~supportdesk.applet.screen.damage_capture.DamageCaptureLoop` and bench.masking_damage.
"""

from __future__ import annotations

import numpy as np

from supportdesk.applet.screen.capture_loop import CopyOp, FrameOp
from supportdesk.capture.mask import MaskPainter
from supportdesk.capture.mask_copies import MaskCopy, after_scroll, mask_copies
from supportdesk.capture.screen_source import Frame
from supportdesk.rfb.geometry import Rect

__all__ = ["copy_masks", "copyable_masks", "not_copied", "outside"]


def copyable_masks(
    painter: MaskPainter, mirror: Frame, painted: list[Rect], rects: list[Rect]
) -> list[MaskCopy]:
    """The masks of ``rects`` (painted into this wake's grabs) to copy from a place where
    ``mirror`` (what the viewer holds; ``painted``: its masks) has their picture, checked
    pixel for pixel against the mask painted alone, which is what the new place shows."""
    if painted == rects:
        return []
    return [
        c
        for c in mask_copies(painted, rects)
        if np.array_equal(
            mirror[c.src_y : c.src_y + c.height, c.src_x : c.src_x + c.width],
            painter.alone(c.width, c.height),
        )
    ]


def copy_masks(
    painter: MaskPainter,
    moves: list[MaskCopy],
    mirror: Frame,
    ops: list[FrameOp],
    patches: list[tuple[Rect, Frame]],
) -> None:
    """After a wake's pieces (``ops``, ``patches``: what they hand on): each of ``moves``
    as a copy after the pieces' scroll copies and before all damage (which may lie where
    it reads: the text its old place left), else its new place as damage; the mirror
    and the consumer get the new place's pixels either way, and no other damage inside
    it is sent. The ops become the copies, then the damage: a wake's pieces do not
    overlap and each piece's copies come before its damage, so no damage lies where a
    later copy reads (as :func:`~supportdesk.applet.screen.damage_pieces.fewer_rects`)."""
    if not moves:
        return
    scrolls = [
        (Rect(op.src_x, op.src_y, op.dst.width, op.dst.height), op.dst)
        for op in ops
        if isinstance(op, CopyOp)
    ]
    after = after_scroll(moves, scrolls)
    damage = [op for op in ops if isinstance(op, Rect)]
    for c, parts in zip(moves, after, strict=True):
        dst = Rect(c.x, c.y, c.width, c.height)
        pixels = painter.alone(c.width, c.height)
        mirror[dst.y : dst.bottom, dst.x : dst.right] = pixels
        patches.append((dst, pixels))
        damage = [r for r in damage if not dst.contains(r)]
        if not parts:
            damage.append(dst)
    ops[:] = [
        *(op for op in ops if isinstance(op, CopyOp)),
        *(CopyOp(p.dst, p.src_x, p.src_y) for parts in after for p in parts),
        *damage,
    ]


def outside(parts: list[Rect] | None, moves: list[MaskCopy]) -> list[Rect] | None:
    """``parts`` (a quiet piece's, sent as they are) without the new places of ``moves``."""
    if parts is None or not moves:
        return parts
    for c in moves:
        dst = Rect(c.x, c.y, c.width, c.height)
        parts = [p for part in parts for p in part.subtract(dst)]
    return parts


def not_copied(moved: list[Rect], planned: list[MaskCopy], left: int, top: int) -> list[Rect]:
    """The places of ``moved`` (root coordinates; ``left``, ``top``: the monitor's origin)
    to grab again: not the new places ``planned`` copies (bench.masking, a field moving
    with every wake-up: 2.2 grabs a wake-up against "off"'s 1.5)."""
    copied = {Rect(c.x + left, c.y + top, c.width, c.height) for c in planned}
    return [m for m in moved if m not in copied]
