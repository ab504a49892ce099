"""Change notification on X11: which areas of the screen were drawn to, told by the X server.

The DAMAGE extension reports the rectangles that drawing touched, so a capture thread
can sleep until something is drawn and then read only those areas instead of grabbing
and diffing the whole screen at a fixed rate (what x0vncserver does too). The watch
uses the *delta rectangles* level on the root window: the server sends an event only
when the damaged region grows, and :meth:`XDamageWatch.take` empties the region
(DamageSubtract) before it returns, with a round trip so the subtract is done before
the caller's next GetImage. Damage drawn after the subtract arrives as new events; damage
drawn before it is in the rectangles returned or in the pixels grabbed afterwards, so
nothing is lost, at worst grabbed twice.
"""

from __future__ import annotations

import select
from typing import Any

from supportdesk.rfb.geometry import Rect

__all__ = ["DamageUnavailable", "XDamageWatch"]


class DamageUnavailable(RuntimeError):
    """The X server has no DAMAGE extension (or the display cannot be opened)."""


class XDamageWatch:
    """Damage of the root window of ``display``, in root-window coordinates.

    One X connection of its own, used from one thread (the capture thread).
    """

    def __init__(self, display: str | None = None) -> None:
        from Xlib import X, error
        from Xlib import display as xdisplay
        from Xlib.ext import damage

        try:
            self._display: Any = xdisplay.Display(display)
        except (error.DisplayError, OSError) as exc:
            raise DamageUnavailable(f"cannot open display {display!r}: {exc}") from exc
        if not self._display.has_extension("DAMAGE"):
            self._display.close()
            raise DamageUnavailable("the X server has no DAMAGE extension")
        self._display.damage_query_version()
        root = self._display.screen().root
        self._damage = root.damage_create(damage.DamageReportDeltaRectangles)
        self._notify = self._display.extension_event.DamageNotify
        self._none = X.NONE
        self._display.sync()
        self._closed = False

    def fileno(self) -> int:
        """The X connection's socket, readable when events may be pending."""
        return int(self._display.fileno())

    def take(self, timeout: float) -> list[Rect]:
        """Wait up to ``timeout`` s for damage; return its rectangles and empty the region.

        Returns ``[]`` if nothing was drawn within ``timeout``. The rectangles may
        overlap; they are in root-window coordinates, unclipped.
        """
        display = self._display
        if not display.pending_events():
            ready, _, _ = select.select([self], [], [], timeout)
            if not ready:
                return []
        rects: list[Rect] = []
        while display.pending_events():
            event = display.next_event()
            if event.type == self._notify:
                a = event.area
                rects.append(Rect(a.x, a.y, a.width, a.height))
        if rects:
            display.damage_subtract(self._damage, self._none, self._none)
            display.sync()  # the subtract is done before the caller grabs
        return rects

    def close(self) -> None:
        """Destroy the damage object and close the connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._display.damage_destroy(self._damage)
            self._display.sync()
        finally:
            self._display.close()
