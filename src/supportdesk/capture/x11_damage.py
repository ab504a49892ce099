"""Change notification on X11: which areas of the screen were drawn to, told by the X server.

The DAMAGE extension reports the rectangles that drawing touched, so a capture thread
can sleep until something is drawn and then read only those areas instead of grabbing
and diffing the whole screen at a fixed rate. The watch asks for one event when the
root window's damage becomes non-empty (a busy desktop draws thousands of times a
second, and python-xlib parses an event in about 0.2 ms), and :meth:`XDamageWatch.take`
moves the whole damaged region into an XFixes region and empties it in one request
(DamageSubtract with ``parts``), then fetches that region's rectangles (FetchRegion,
whose reply is also the round trip that orders the subtract before the caller's next
GetImage), as x11vnc and TigerVNC do. Damage drawn after the subtract raises a new
event; damage drawn before it is in the rectangles returned, so nothing is lost.
python-xlib has no XFixes region requests: the three used are declared here.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import threading
from typing import Any

from supportdesk.rfb.geometry import Rect

__all__ = ["DamageUnavailable", "XDamageWatch"]


@functools.cache
def _region_requests() -> tuple[Any, Any, Any]:
    """XFixes CreateRegion, DestroyRegion and FetchRegion as python-xlib requests.

    Built on first use: python-xlib (and what it imports) loads only where the program
    captures an X screen (tests/applet/test_import_boundary.py).
    """
    from Xlib.protocol import rq, structs

    class CreateRegion(rq.Request):  # type: ignore[misc]  # python-xlib is untyped
        _request = rq.Struct(
            rq.Card8("opcode"),
            rq.Opcode(5),
            rq.RequestLength(),
            rq.Card32("region"),
            rq.List("rectangles", structs.Rectangle),
        )

    class DestroyRegion(rq.Request):  # type: ignore[misc]
        _request = rq.Struct(
            rq.Card8("opcode"), rq.Opcode(10), rq.RequestLength(), rq.Card32("region")
        )

    class FetchRegion(rq.ReplyRequest):  # type: ignore[misc]
        _request = rq.Struct(
            rq.Card8("opcode"), rq.Opcode(19), rq.RequestLength(), rq.Card32("region")
        )
        _reply = rq.Struct(
            rq.ReplyCode(),
            rq.Pad(1),
            rq.Card16("sequence_number"),
            rq.ReplyLength(),
            rq.Object("extents", structs.Rectangle),
            rq.Pad(16),
            rq.List("rectangles", structs.Rectangle),
        )

    return CreateRegion, DestroyRegion, FetchRegion


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
        if not (self._display.has_extension("DAMAGE") and self._display.has_extension("XFIXES")):
            self._display.close()
            raise DamageUnavailable("the X server lacks DAMAGE or XFIXES")
        self._display.damage_query_version()
        self._display.xfixes_query_version()  # required before XFixes requests
        self._protocol = self._display.display
        self._xfixes = self._protocol.get_extension_major("XFIXES")
        self._region = self._protocol.allocate_resource_id()
        create, self._destroy_region, self._fetch_region = _region_requests()
        create(display=self._protocol, opcode=self._xfixes, region=self._region, rectangles=[])
        root = self._display.screen().root
        self._damage = root.damage_create(damage.DamageReportNonEmpty)
        self._notify = self._display.extension_event.DamageNotify
        self._none = X.NONE
        self._display.sync()
        self._closed = False
        self._woken, self._wake = os.pipe()  # interrupt(): another thread ends a take() early
        os.set_blocking(self._wake, False)
        self._pipe_lock = threading.Lock()  # no write to a closed (maybe reused) descriptor
        self._pipe_open = True

    def fileno(self) -> int:
        """The X connection's socket, readable when events may be pending."""
        return int(self._display.fileno())

    def take(self, timeout: float) -> list[Rect]:
        """Wait up to ``timeout`` s for damage; return its rectangles and empty the region.

        Returns ``[]`` if nothing was drawn within ``timeout`` or :meth:`interrupt` ended
        the wait first. The rectangles are the
        X server's banded region (no overlaps), in root-window coordinates, unclipped.
        """
        display = self._display
        if not display.pending_events():
            connection = self.fileno()
            ready, _, _ = select.select([connection, self._woken], [], [], timeout)
            if self._woken in ready:
                os.read(self._woken, 64)
            if connection not in ready:
                return []
        drawn = False
        while display.pending_events():
            drawn = display.next_event().type == self._notify or drawn
        if not drawn:
            return []
        display.damage_subtract(self._damage, self._none, self._region)
        reply = self._fetch_region(display=self._protocol, opcode=self._xfixes, region=self._region)
        return [Rect(r.x, r.y, r.width, r.height) for r in reply.rectangles]

    def interrupt(self) -> None:
        """End a :meth:`take` waiting in another thread now (it returns what was drawn)."""
        with self._pipe_lock, contextlib.suppress(BlockingIOError):  # full: woken already
            if self._pipe_open:
                os.write(self._wake, b"!")

    def close(self) -> None:
        """Destroy the damage object and close the connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._display.damage_destroy(self._damage)
            self._destroy_region(display=self._protocol, opcode=self._xfixes, region=self._region)
            self._display.sync()
        finally:
            self._display.close()
            with self._pipe_lock:
                self._pipe_open = False
                os.close(self._woken)
                os.close(self._wake)
