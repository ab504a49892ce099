"""What a viewer may copy of a vertical scroll when masks stand in it, and what it is sent.

A mask (a secret field, a window rule) is painted into every captured frame at the same
place while the text around it may scroll. One CopyRect of the whole scrolled band would
carry the mask's pattern onto the text and the text into the mask, and everything it
got wrong would have to be sent again as pixels. :func:`copies_around` cuts the move
into pieces whose destination and source both lie outside every still mask (one at
the same place in the previous and the current frame), ordered so that a viewer doing
them one after another gets what one copy of the previous picture would give (a mask
that moved does not cut it: see there). The masked area standing still needs
nothing; the text that comes out from under a mask (never seen by the viewer) is
damage. :func:`frame_changes` is the whole step the polling loop takes: the copies (the
scroll's, then a mask that moved keeping its size, copied from where the viewer holds it:
:mod:`supportdesk.capture.mask_copies`), then the damage left after them (compared again
only where the copies wrote, and without what a still or copied mask covers).

Pure numpy on frames and rectangles, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from supportdesk.capture.damage import (
    DEFAULT_TILE,
    Rect,
    TileGrid,
    VerticalScroll,
    _pixels,
    changed_tiles,
    detect_damage,
    detect_vertical_scroll,
    tiles_to_rects,
)
from supportdesk.capture.mask_copies import MaskCopy, after_scroll, mask_copies
from supportdesk.capture.screen_source import Frame
from supportdesk.rfb.geometry import Rect as Box

__all__ = [
    "MAX_PIECES",
    "Copy",
    "MaskPlaces",
    "apply_copies",
    "copies_around",
    "frame_changes",
]

Copy = VerticalScroll | MaskCopy
"""One copy a viewer does: a piece of a scroll, or a moved mask."""

MAX_PIECES = 8
"""At most this many copies per scroll (the largest pieces; the rest is sent as pixels):
the RFB engine sends more than 16 pending copies as pixels anyway."""


@dataclass(frozen=True, slots=True)
class MaskPlaces:
    """The mask rectangles of two pictures: those painted into the one the viewer holds
    (``before``) and those painted into the new one (``now``); a still mask is in both."""

    before: tuple[Box, ...]
    now: tuple[Box, ...]
    same: tuple[Box, ...] | None = None
    """Those known to hold the same pixels in both (None: worked out, see :meth:`still`)."""

    @property
    def either(self) -> list[Box]:
        """Every rectangle masked in either picture, once."""
        return list(dict.fromkeys([*self.before, *self.now]))

    def still(self) -> list[Box]:
        """The masks at the same place in both pictures that no other mask overlaps
        in only one of them: painted alike (the pattern and label are placed by the
        rectangle, clipped to the picture), so their pixels are the same in both."""
        if self.same is not None:
            return list(self.same)
        before, now = set(self.before), set(self.now)
        changed = before ^ now
        return [
            m
            for m in dict.fromkeys(self.now)
            if m in before and all(c.intersect(m).is_empty for c in changed)
        ]

    def within(self, area: Box) -> MaskPlaces:
        """The places that overlap ``area``, clipped to it, in its coordinates.

        Which are the same in both is worked out on the whole rectangles: clipped, a
        mask that moved can look like one that stood still (its label did move)."""

        def inside(rects: Sequence[Box]) -> tuple[Box, ...]:
            cuts = (m.intersect(area) for m in rects)
            return tuple(c.translate(-area.x, -area.y) for c in cuts if not c.is_empty)

        return MaskPlaces(inside(self.before), inside(self.now), inside(self.still()))

    def copied(self, places: Sequence[Box]) -> MaskPlaces:
        """These places when masks are copied to ``places`` after the scroll's copies:
        the viewer then holds there what the new picture has, so their part of the
        damage is left out without comparing, as a still mask's."""
        if not places:
            return self
        same = tuple(dict.fromkeys([*self.still(), *places]))
        return MaskPlaces(self.before, self.now, same)


Masks = Sequence[Box] | MaskPlaces
"""The masks of a step: where they were and are (:class:`MaskPlaces`), or a plain list of
rectangles each taken as painted into both pictures."""


def _places(masks: Masks) -> MaskPlaces:
    if isinstance(masks, MaskPlaces):
        return masks
    return MaskPlaces(tuple(masks), tuple(masks))


def copies_around(scroll: VerticalScroll, masks: Masks) -> list[VerticalScroll]:
    """``scroll`` cut into copies that read no still mask and write into none.

    The copies are disjoint and in the order a viewer must do them: for a move up, the
    topmost first (each reads rows below it that no earlier copy wrote), for a move
    down the lowest first. Without masks the scroll itself is the one copy.

    A mask at the same place in both pictures (given as a plain list, every mask is)
    is left out of the copy's source and destination: its stripes stay, and no stripes
    land on the text. A mask that came, moved or went (:class:`MaskPlaces`) does not
    cut the copy: the copy may carry its old stripes onto the text and text into its
    new place, and :func:`frame_changes` compares again after the copies, so both are
    sent as damage -- the same pixels a copy cut around them leaves to be sent (its
    new place, and the rows read from its old one). A copy moves only pixels the viewer
    holds, which were all masked when sent, so this sends no masked pixel; it saves the
    pieces: bench.masking's field moving over the scrolling text on every wake-up had
    3.7 CopyRects a wake-up for "off"'s 1.0, the engine paying for each.
    """
    shift = scroll.dst_y - scroll.src_y
    dst = Box(scroll.x, scroll.dst_y, scroll.width, scroll.height)
    places = _places(masks)
    still = set(places.before) & set(places.now)
    holes = [h for m in dict.fromkeys(places.now) if m in still for h in _holes(m, shift)]
    pieces = [dst]
    for hole in holes:
        pieces = [part for piece in pieces for part in piece.subtract(hole)]
    if len(pieces) > MAX_PIECES:
        pieces = sorted(pieces, key=lambda p: p.area, reverse=True)[:MAX_PIECES]
    pieces.sort(key=lambda p: p.y if shift < 0 else -p.bottom)
    return [VerticalScroll(p.x, p.width, p.y - shift, p.y, p.height) for p in pieces]


def _holes(mask: Box, shift: int) -> list[Box]:
    """Destination rows a copy must leave out for ``mask``: the mask, and where the rows
    read from the mask would land (one rectangle when the two touch: fewer pieces)."""
    landed = mask.translate(0, shift)
    if abs(shift) <= mask.height:
        return [mask.union_bounds(landed)]
    return [mask, landed]


def apply_copies(frame: Frame, copies: Sequence[Copy]) -> Frame:
    """A copy of ``frame`` after ``copies``, done one after another as the viewer does."""
    return _copied(frame.copy(), copies)


def _copied(out: Frame, copies: Sequence[Copy]) -> Frame:
    """``out`` after ``copies``, done in it."""
    for c in copies:
        if isinstance(c, MaskCopy):
            d, s = c.dst, c.src
            out[d.y : d.bottom, d.x : d.right] = out[s.y : s.bottom, s.x : s.right].copy()
            continue
        xs = slice(c.x, c.x + c.width)
        out[c.dst_y : c.dst_y + c.height, xs] = out[c.src_y : c.src_y + c.height, xs]
    return out


def frame_changes(
    previous: Frame,
    current: Frame,
    *,
    scroll: bool = True,
    masks: Masks = (),
    samples: int = 256,
    copy_masks: bool = True,
) -> tuple[list[Copy], list[Rect]]:
    """The copies (a vertical scroll around ``masks``, then moved masks) and the damage
    left after them.

    ``masks`` are the rectangles painted into the frames, in their coordinates: a
    :class:`MaskPlaces`, or a list of those painted into either frame. After
    the copies, in order, and the damage sent from ``current``, a viewer that held
    ``previous`` holds ``current``. An unchanged frame gives ``([], [])``. With
    :class:`MaskPlaces` and ``copy_masks``, a new mask is copied from a place where
    ``previous`` holds the same pixels (:func:`~supportdesk.capture.mask_copies.mask_copies`,
    checked pixel for pixel here). The damage leaves out what lies in a mask and is the
    same in both frames (a mask standing still: the viewer has its stripes, and no
    copy writes into a mask; or one copied there). A scroll is looked for on
    ``samples`` pixels a row, within the changed tiles' bounds; the tiles are compared
    again after the copies, so what the samples missed is damage.
    """
    if previous.shape != current.shape:
        return [], detect_damage(None, current)
    grid = changed_tiles(previous, current)
    if not grid.any():
        return [], []
    places = _places(masks)
    moves: list[MaskCopy] = []
    if copy_masks and isinstance(masks, MaskPlaces):
        moves = [
            c
            for c in mask_copies(masks.before, masks.now)
            if np.array_equal(_at(previous, c.src), _at(current, c.dst))
        ]
    copies: list[VerticalScroll] = []
    if scroll:
        rows, cols = np.flatnonzero(grid.any(axis=1)), np.flatnonzero(grid.any(axis=0))
        t = DEFAULT_TILE
        height, width = current.shape[:2]
        bounds = (
            int(cols[0]) * t,
            int(rows[0]) * t,
            min(int(cols[-1] + 1) * t, width),
            min(int(rows[-1] + 1) * t, height),
        )
        moved = detect_vertical_scroll(
            previous, current, samples=samples, masks=places.either, bounds=bounds
        )
        if moved is not None:
            moved = _over_changes(moved, previous, current)
            # A piece over tiles that did not change copies what is there already.
            copies = [c for c in copies_around(moved, places) if _changed(grid, _dst(c))]
    held = _Held(previous)
    if copies:
        held = _after_copies(grid, held, current, copies)
    if moves:  # after the scroll's copies: read where those put their sources
        after = after_scroll(moves, [(_src(c), _dst(c)) for c in copies])
        done = [m.dst for m, parts in zip(moves, after, strict=True) if parts]
        held = _Held(held.previous, (*held.patches, *((d, _at(current, d)) for d in done)))
        for d in done:  # the tiles around a copied mask, compared as the viewer has them
            _compare_again(grid, held, current, d)
        places = places.copied(done)
        moves = [p for parts in after for p in parts]
    height, width = current.shape[:2]
    damage = tiles_to_rects(grid, width, height)
    same = places.still() if isinstance(masks, MaskPlaces) else []
    return [*copies, *moves], _outside_still_masks(damage, grid, held, current, places.either, same)


def _over_changes(scroll: VerticalScroll, previous: Frame, current: Frame) -> VerticalScroll:
    """``scroll`` narrowed to the columns that changed in its destination rows (every
    fourth row looked at: a line of text is taller): copying the rest writes what is
    there already. The scroll is looked for within the changed tiles' bounds, which on
    the polling path span the clock and the animation too (1792 of bench.masking's 1920
    columns, the text 906 of them): so wide, the copy was cut by a window rule standing
    where nothing is drawn (1.89 copies a frame against "off"'s 0.94)."""
    ys = slice(scroll.dst_y, scroll.dst_y + scroll.height, 4)
    xs = slice(scroll.x, scroll.x + scroll.width)
    changed = np.flatnonzero((_pixels(previous[ys, xs]) != _pixels(current[ys, xs])).any(axis=0))
    if changed.size == 0:
        return scroll
    x0, x1 = scroll.x + int(changed[0]), scroll.x + int(changed[-1]) + 1
    return VerticalScroll(x0, x1 - x0, scroll.src_y, scroll.dst_y, scroll.height)


def _at(frame: Frame, area: Box) -> Frame:
    return frame[area.y : area.bottom, area.x : area.right]


def _compare_again(grid: TileGrid, held: _Held, current: Frame, area: Box) -> None:
    """Mark in ``grid`` the tiles ``area`` touches as what the viewer holds compares."""
    t = DEFAULT_TILE
    height, width = current.shape[:2]
    x0, y0 = area.x // t * t, area.y // t * t
    x1, y1 = min(-(-area.right // t) * t, width), min(-(-area.bottom // t) * t, height)
    box = Box(x0, y0, x1 - x0, y1 - y0)
    grid[box.y // t : -(-box.bottom // t), box.x // t : -(-box.right // t)] = changed_tiles(
        held.region(box), _at(current, box)
    )


@dataclass(frozen=True, slots=True)
class _Held:
    """What the viewer holds after the copies: ``previous`` with ``patches`` pasted on it
    in order (a copied mask's new place, the band the scroll's copies give)."""

    previous: Frame
    patches: tuple[tuple[Box, Frame], ...] = ()

    def region(self, area: Box) -> Frame:
        """A copy of ``area`` as the viewer holds it."""
        held = _at(self.previous, area).copy()
        for at, pixels in self.patches:
            inside = area.intersect(at)
            if inside.is_empty:
                continue
            a, b = inside.translate(-area.x, -area.y), inside.translate(-at.x, -at.y)
            held[a.y : a.bottom, a.x : a.right] = pixels[b.y : b.bottom, b.x : b.right]
        return held

    def differs(self, current: Frame, area: Box) -> bool:
        """True if a pixel of ``area`` differs from ``current``."""
        if all(area.intersect(at).is_empty for at, _ in self.patches):
            return not np.array_equal(_at(self.previous, area), _at(current, area))
        return not np.array_equal(self.region(area), _at(current, area))


def _after_copies(
    grid: TileGrid, held: _Held, current: Frame, copies: Sequence[VerticalScroll]
) -> _Held:
    """Compare again, in ``grid``, the tiles the copies touch: with the copies done.

    Only the band of tiles holding every copy's source and destination is copied and
    compared (a whole-frame copy and compare cost more than the rest of a scroll).
    """
    t = DEFAULT_TILE
    height, width = current.shape[:2]
    y0 = min(min(c.src_y, c.dst_y) for c in copies) // t * t
    y1 = min(-(-max(max(c.src_y, c.dst_y) + c.height for c in copies) // t) * t, height)
    x0 = min(c.x for c in copies) // t * t
    x1 = min(-(-max(c.x + c.width for c in copies) // t) * t, width)
    moved = [
        VerticalScroll(c.x - x0, c.width, c.src_y - y0, c.dst_y - y0, c.height) for c in copies
    ]
    at = Box(x0, y0, x1 - x0, y1 - y0)
    band = _copied(held.region(at), moved)
    grid[y0 // t : -(-y1 // t), x0 // t : -(-x1 // t)] = changed_tiles(band, current[y0:y1, x0:x1])
    return _Held(held.previous, (*held.patches, (at, band)))


def _outside_still_masks(
    damage: list[Rect],
    grid: TileGrid,
    held: _Held,
    current: Frame,
    masks: Sequence[Box],
    same: Sequence[Box] = (),
) -> list[Rect]:
    """``damage`` without the parts that lie in a mask and are the same in both frames.

    A part in a mask that changed (one that came or moved) is cut out as a rectangle of
    its own: the encoder then codes the stripes apart from the text around them (one
    tile of both took an 8-bit palette where the text alone is 1 bit a pixel:
    bench.masking, a field moving over the scrolling text, 6 kB more a wake-up). Even
    slivers are cut: stripes cost the encoder more than the rectangles a cut adds
    (on bench.masking, leaving parts under 128x128 pixels in sent 5 kB more a wake-up
    with one secret field, and encoding took 0.8 ms longer in that run). What is left
    of a rectangle cut so is kept only where it holds a change: a changed tile of
    ``grid`` and a pixel that differs from what the viewer holds after the copies.

    ``same``: masks of ``masks`` known to hold the same pixels in both frames and in
    what the viewer holds (a mask at the same place in both, which no copy writes into
    and no mask that changed overlaps): their parts are left out without comparing.
    """
    if not masks or not damage:
        return damage
    out: list[Rect] = []
    for r in damage:
        whole = Box(r.x, r.y, r.width, r.height)
        parts = [whole]
        for m in masks:
            rest: list[Box] = []
            for part in parts:
                cut = part.intersect(m)
                if cut.is_empty or (cut == part and m not in same):
                    rest.append(part)
                elif m in same:
                    rest.extend(part.subtract(cut))
                else:  # kept below only if it holds a change: compared once, there
                    rest.extend([*part.subtract(cut), cut])
            parts = rest
        if parts != [whole]:
            parts = [p for p in parts if _holds_change(grid, held, current, p)]
        out.extend(Rect(p.x, p.y, p.width, p.height) for p in parts)
    return out


def _holds_change(grid: TileGrid, held: _Held, current: Frame, area: Box) -> bool:
    """True if a pixel of ``area`` differs from what the viewer holds (``grid``: the
    changed tiles, after the copies). A changed tile wholly inside ``area`` says so
    without comparing (bench.masking's polling path, a 640x480 window rule: the parts
    compared fell from 385 to 17 kpx a frame, this step from 0.72 to 0.18 ms); only an
    area whose changed tiles all lie across its edge is compared pixel for pixel."""
    if not _changed(grid, area):
        return False
    t = DEFAULT_TILE
    ys = slice(-(-area.y // t), area.bottom // t)
    xs = slice(-(-area.x // t), area.right // t)
    return bool(grid[ys, xs].any()) or held.differs(current, area)


def _dst(copy: VerticalScroll) -> Box:
    return Box(copy.x, copy.dst_y, copy.width, copy.height)


def _src(copy: VerticalScroll) -> Box:
    return Box(copy.x, copy.src_y, copy.width, copy.height)


def _changed(grid: TileGrid, area: Box, tile: int = DEFAULT_TILE) -> bool:
    """True if a tile ``area`` touches is marked changed in ``grid``."""
    ys = slice(area.y // tile, -(-area.bottom // tile))
    xs = slice(area.x // tile, -(-area.right // tile))
    return bool(grid[ys, xs].any())
