"""The CopyRect moves waiting for a client's next FramebufferUpdate.

A scroll or a moved window is cheapest as CopyRect: "this rectangle now shows what
was there". A move is sent as CopyRect only while the client supports it and asks
for the area it lands in; otherwise, and when more than ``MAX_PENDING_COPIES``
queue up, the destination becomes damage and goes out as pixels. Damage not yet
sent inside the source moves with it. Pure bookkeeping over the connection's
:class:`~supportdesk.rfb.update_tracker.UpdateTracker`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import LocalProtocolError
from .geometry import Rect
from .update_tracker import UpdateTracker

__all__ = ["MAX_PENDING_COPIES", "CopyMoves", "Move"]

MAX_PENDING_COPIES = 16
"""More queued CopyRect moves than this are sent as pixels instead."""


@dataclass(frozen=True, slots=True)
class Move:
    dst: Rect
    src_x: int
    src_y: int


class CopyMoves:
    """The queued moves of one connection."""

    def __init__(self, tracker: UpdateTracker) -> None:
        self._tracker = tracker
        self._moves: list[Move] = []

    def __bool__(self) -> bool:
        return bool(self._moves)

    def add(self, dst: Rect, src_x: int, src_y: int, *, as_copy: bool) -> None:
        """``dst`` now shows what was at ``src_x, src_y``.

        ``as_copy``: the client takes CopyRect (else the move goes out as pixels)."""
        tracker = self._tracker
        src = Rect(src_x, src_y, dst.width, dst.height)
        if not (tracker.framebuffer.contains(dst) and tracker.framebuffer.contains(src)):
            raise LocalProtocolError(f"copy {src} -> {dst} leaves the framebuffer")
        if dst.is_empty:
            return
        dx, dy = dst.x - src_x, dst.y - src_y
        moved = [d.intersect(src).translate(dx, dy) for d in tracker.damage]
        tracker.add_damage(m for m in moved if not m.is_empty)
        self._moves.append(Move(dst, src_x, src_y))
        if not as_copy or len(self._moves) > MAX_PENDING_COPIES:
            self.send_as_pixels()

    def send_as_pixels(self) -> None:
        """Every queued move becomes damage (the client no longer takes CopyRect)."""
        self._tracker.add_damage([m.dst for m in self._moves])
        self._moves = []

    def clear(self) -> None:
        """Forget the moves (the framebuffer was resized: everything is sent anew)."""
        self._moves.clear()

    def take(self) -> list[Move]:
        """Moves to send as CopyRect now; from the first one the client did not ask for,
        the rest become damage."""
        moves, self._moves = self._moves, []
        for i, move in enumerate(moves):
            if not self._tracker.is_watched(move.dst):
                self._tracker.add_damage([m.dst for m in moves[i:]])
                return moves[:i]
        return moves
