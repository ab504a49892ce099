"""Which areas the viewer shows from JPEG: what a lossless refresh has to send again.

The connection notes every rectangle it sends; a JPEG rectangle is added, an exact one
removes what it fully covers. The list is bounded: beyond :data:`MAX_LOSSY_RECTS` it
collapses into its bounding box, which a refresh then sends whole -- more bytes once,
never a JPEG area left behind.
"""

from __future__ import annotations

from .geometry import Rect

__all__ = ["MAX_LOSSY_RECTS", "LossyAreas"]

MAX_LOSSY_RECTS = 64


class LossyAreas:
    """The rectangles last sent as JPEG and not sent exactly since."""

    def __init__(self) -> None:
        self._rects: list[Rect] = []
        self._bounds: Rect | None = None  # of _rects, kept as they change (asked every loop)
        self.added = 0
        """How many JPEG rectangles were sent so far (the shell sees a picture move)."""

    def sent(self, rect: Rect, *, lossy: bool) -> None:
        """``rect`` went out, as JPEG if ``lossy``; what it covers is now what it says."""
        kept = [r for r in self._rects if not rect.contains(r)]
        if len(kept) != len(self._rects):
            self._rects = kept
            self._bounds = _bounds(kept)
        if lossy:
            self.added += 1
            self._rects.append(rect)
            self._bounds = rect if self._bounds is None else self._bounds.union_bounds(rect)
            if len(self._rects) > MAX_LOSSY_RECTS:
                self._rects = [self._bounds]

    def overlaps(self, rect: Rect) -> bool:
        """True if ``rect`` shares pixels with an area the viewer has as JPEG."""
        return any(not rect.intersect(r).is_empty for r in self._rects)

    @property
    def bounds(self) -> Rect | None:
        """Bounding box of all lossy areas, or None if the viewer's picture is exact."""
        return self._bounds

    def take(self) -> list[Rect]:
        """Return and forget every lossy area (the caller resends them exactly)."""
        rects, self._rects, self._bounds = self._rects, [], None
        return rects


def _bounds(rects: list[Rect]) -> Rect | None:
    if not rects:
        return None
    box = rects[0]
    for r in rects[1:]:
        box = box.union_bounds(r)
    return box
