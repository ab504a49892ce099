"""Rectangles on the framebuffer: clipping, union bounds and tiling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Rect"]


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle; ``x``/``y`` is the top-left corner, in pixels."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        """One past the last column."""
        return self.x + self.width

    @property
    def bottom(self) -> int:
        """One past the last row."""
        return self.y + self.height

    @property
    def area(self) -> int:
        """Number of pixels covered (0 for an empty rectangle)."""
        return max(self.width, 0) * max(self.height, 0)

    @property
    def is_empty(self) -> bool:
        """True if the rectangle covers no pixel."""
        return self.width <= 0 or self.height <= 0

    def intersect(self, other: Rect) -> Rect:
        """The overlap of two rectangles (possibly empty, then 0x0 at the origin)."""
        x0 = max(self.x, other.x)
        y0 = max(self.y, other.y)
        x1 = min(self.right, other.right)
        y1 = min(self.bottom, other.bottom)
        if x1 <= x0 or y1 <= y0:
            return Rect(0, 0, 0, 0)
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def union_bounds(self, other: Rect) -> Rect:
        """The smallest rectangle containing both (an empty operand is ignored)."""
        if self.is_empty:
            return other
        if other.is_empty:
            return self
        x0 = min(self.x, other.x)
        y0 = min(self.y, other.y)
        x1 = max(self.right, other.right)
        y1 = max(self.bottom, other.bottom)
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def contains(self, other: Rect) -> bool:
        """True if ``other`` lies entirely inside this rectangle."""
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def tiles(self, max_width: int, max_area: int) -> Iterator[Rect]:
        """Split into row-major tiles at most ``max_width`` wide and ``max_area`` big."""
        if self.is_empty:
            return
        tile_w = min(self.width, max_width)
        tile_h = max(1, max_area // tile_w)
        for ty in range(self.y, self.bottom, tile_h):
            th = min(tile_h, self.bottom - ty)
            for tx in range(self.x, self.right, tile_w):
                yield Rect(tx, ty, min(tile_w, self.right - tx), th)

    def subtract(self, other: Rect) -> list[Rect]:
        """The parts of this rectangle outside ``other``: at most four disjoint pieces."""
        cut = self.intersect(other)
        if cut.is_empty:
            return [] if self.is_empty else [self]
        pieces = [
            Rect(self.x, self.y, self.width, cut.y - self.y),  # above
            Rect(self.x, cut.bottom, self.width, self.bottom - cut.bottom),  # below
            Rect(self.x, cut.y, cut.x - self.x, cut.height),  # left
            Rect(cut.right, cut.y, self.right - cut.right, cut.height),  # right
        ]
        return [p for p in pieces if not p.is_empty]

    def translate(self, dx: int, dy: int) -> Rect:
        """The same rectangle moved by ``dx, dy``."""
        return Rect(self.x + dx, self.y + dy, self.width, self.height)
