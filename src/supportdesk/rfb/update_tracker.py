"""Which parts of the framebuffer the client asked for, and which changed since it last saw them.

RFB updates are demand-driven: the server may only send a FramebufferUpdate
after a FramebufferUpdateRequest (or while continuous updates are on). The
tracker records requests -- incremental ones as the bounding box of the asked
area, non-incremental ones as areas to send whatever changed -- and the damage
reported by the capture side, and turns both into the list of rectangles of
the next update.

Requested areas are clamped to the framebuffer; a request whose area lies
entirely outside it is ignored.

Every list here is bounded, so a viewer's flood costs linear time: beyond
:data:`MAX_PENDING_AREAS` non-incremental areas (or :data:`MAX_DAMAGE_RECTS`
damage rectangles) they collapse into their bounding box, which covers all of
them -- the client gets at least what it asked for, never less.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .geometry import Rect

__all__ = ["BAND", "MAX_DAMAGE_RECTS", "MAX_PENDING_AREAS", "UpdateTracker", "within_area"]

MAX_DAMAGE_RECTS = 64
"""Beyond this many damage rectangles they collapse into their bounding box."""

MAX_PENDING_AREAS = 64
"""Beyond this many non-incremental request areas they collapse into their bounding box."""

BAND = 64
"""A damaged area cut to fit an update's pixel budget is cut into bands of this many rows
(the Tight encoder's band height, so no band is split twice)."""

_MAX_PIECES = 4 * MAX_DAMAGE_RECTS
"""A damage rectangle cut into more pieces than this stays whole (sent again, not lost)."""


def _bounds(rects: list[Rect]) -> Rect:
    bounds = Rect(0, 0, 0, 0)
    for rect in rects:
        bounds = bounds.union_bounds(rect)
    return bounds


def within_area(pieces: list[Rect], max_area: int) -> list[Rect]:
    """The part of ``pieces`` one update carries when it may carry ``max_area`` pixels.

    Small pieces first (up to an eighth of the budget each: a clock, a cursor, a typed
    letter go out with the very next update whatever large area changes beside them),
    then the others in the order they were damaged (the oldest first, so a large area
    is not starved by others that keep changing), the first that does not fit cut into
    its top bands of :data:`BAND` rows; at least one band goes out, so every update
    makes progress. What is left stays damaged for the next update.
    """
    small = max_area // 8
    order = sorted(
        range(len(pieces)), key=lambda i: (0, pieces[i].area) if pieces[i].area <= small else (1, i)
    )
    out: list[Rect] = []
    left = max_area
    for piece in (pieces[i] for i in order):
        if piece.area <= left:
            out.append(piece)
            left -= piece.area
            continue
        rows = left // piece.width // BAND * BAND
        if rows == 0 and not out:
            rows = BAND
        if rows > 0:
            out.append(Rect(piece.x, piece.y, piece.width, min(rows, piece.height)))
        break
    return out


@dataclass(frozen=True, slots=True)
class _Plan:
    rects: list[Rect]
    remaining_damage: list[Rect]


class UpdateTracker:
    """Pending requests, continuous-update area and damage of one connection."""

    def __init__(self, width: int, height: int) -> None:
        self.framebuffer = Rect(0, 0, width, height)
        self.incremental_area = Rect(0, 0, 0, 0)
        self.full_areas: list[Rect] = []
        self.continuous_area: Rect | None = None
        self.damage: list[Rect] = []

    # -- inputs ------------------------------------------------------------------------

    def request(self, area: Rect, *, incremental: bool) -> None:
        """Record a FramebufferUpdateRequest (clamped to the framebuffer)."""
        area = area.intersect(self.framebuffer)
        if area.is_empty:
            return
        if incremental:
            self.incremental_area = self.incremental_area.union_bounds(area)
        elif not any(full.contains(area) for full in self.full_areas):
            self.full_areas = [full for full in self.full_areas if not area.contains(full)]
            self.full_areas.append(area)
            if len(self.full_areas) > MAX_PENDING_AREAS:
                self.full_areas = [_bounds(self.full_areas)]

    def set_continuous(self, area: Rect | None) -> None:
        """Turn continuous updates on for ``area`` (clamped) or off with None."""
        self.continuous_area = None if area is None else area.intersect(self.framebuffer)

    def add_damage(self, rects: Iterable[Rect]) -> None:
        """Remember changed areas (clamped) until an update carries them."""
        for rect in rects:
            clipped = rect.intersect(self.framebuffer)
            if clipped.is_empty or any(d.contains(clipped) for d in self.damage):
                continue
            self.damage.append(clipped)
            if len(self.damage) > MAX_DAMAGE_RECTS:
                self.damage = [_bounds(self.damage)]

    def resize(self, width: int, height: int) -> None:
        """New framebuffer size: everything is damaged, requests are clamped."""
        self.framebuffer = Rect(0, 0, width, height)
        self.incremental_area = self.incremental_area.intersect(self.framebuffer)
        self.full_areas = [a.intersect(self.framebuffer) for a in self.full_areas]
        self.full_areas = [a for a in self.full_areas if not a.is_empty]
        if self.continuous_area is not None:
            self.continuous_area = self.continuous_area.intersect(self.framebuffer)
        self.damage = [self.framebuffer]

    # -- queries -----------------------------------------------------------------------

    @property
    def requested(self) -> bool:
        """True if the client is waiting for an update (or continuous updates are on)."""
        return (
            not self.incremental_area.is_empty
            or bool(self.full_areas)
            or self.continuous_area is not None
        )

    def _watched_areas(self) -> list[Rect]:
        areas = [] if self.incremental_area.is_empty else [self.incremental_area]
        if self.continuous_area is not None and not self.continuous_area.is_empty:
            areas.append(self.continuous_area)
        return areas

    def is_watched(self, rect: Rect) -> bool:
        """True if ``rect`` lies fully inside an area the client currently asks about."""
        return any(a.contains(rect) for a in [*self._watched_areas(), *self.full_areas])

    def overlaps_damage(self, rect: Rect) -> bool:
        """True if part of ``rect`` is still damaged (not yet sent)."""
        return any(not d.intersect(rect).is_empty for d in self.damage)

    def plan(self, max_area: int | None = None) -> list[Rect]:
        """Rectangles the next update would carry (without consuming anything)."""
        return self._plan(max_area, remaining=False).rects

    def _plan(self, max_area: int | None = None, *, remaining: bool = True) -> _Plan:
        """The next update's rectangles and, with ``remaining``, the damage it leaves."""
        rects = list(self.full_areas)
        watched = self._watched_areas()
        changed: list[Rect] = []
        for damage in self.damage:
            for area in watched:
                piece = damage.intersect(area)
                if not piece.is_empty and not any(r.contains(piece) for r in [*rects, *changed]):
                    changed.append(piece)
        if max_area is not None:  # asked-for areas go whole, changes up to the budget
            changed = within_area(changed, max(0, max_area - sum(r.area for r in rects)))
        rects.extend(changed)
        left: list[Rect] = []
        if not remaining:  # a question asked several times per update: no subtracting
            return _Plan(rects, left)
        for damage in self.damage:
            pieces = [damage]
            for sent in rects:
                pieces = [p for piece in pieces for p in piece.subtract(sent)]
                if len(pieces) > _MAX_PIECES:
                    pieces = [damage]
                    break
            left.extend(pieces)
        return _Plan(rects, left)

    def take(self, max_area: int | None = None) -> list[Rect]:
        """Rectangles for the update being sent now; consumes the request and the damage sent.

        With ``max_area``, changes go out up to about that many pixels (see
        :func:`within_area`) and the rest stays damaged for the next update.
        """
        plan = self._plan(max_area)
        self.damage = plan.remaining_damage
        self.incremental_area = Rect(0, 0, 0, 0)
        self.full_areas = []
        if len(self.damage) > MAX_DAMAGE_RECTS:
            self.damage = [_bounds(self.damage)]
        return plan.rects
