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
        self.added = 0
        """How many JPEG rectangles were sent so far (the shell sees a picture move)."""

    def sent(self, rect: Rect, *, lossy: bool) -> None:
        """``rect`` went out, as JPEG if ``lossy``; what it covers is now what it says."""
        self._rects = [r for r in self._rects if not rect.contains(r)]
        if lossy:
            self.added += 1
            self._rects.append(rect)
            if len(self._rects) > MAX_LOSSY_RECTS:
                self._rects = [self.bounds or rect]

    def overlaps(self, rect: Rect) -> bool:
        """True if ``rect`` shares pixels with an area the viewer has as JPEG."""
        return any(not rect.intersect(r).is_empty for r in self._rects)

    @property
    def bounds(self) -> Rect | None:
        """Bounding box of all lossy areas, or None if the viewer's picture is exact."""
        if not self._rects:
            return None
        box = self._rects[0]
        for r in self._rects[1:]:
            box = box.union_bounds(r)
        return box

    def take(self) -> list[Rect]:
        """Return and forget every lossy area (the caller resends them exactly)."""
        rects, self._rects = self._rects, []
        return rects
