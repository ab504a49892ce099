"""The visible top-level windows of an X11 desktop, for the bank's window rules.

Without a window manager the top-level windows are the root's mapped children; with a
reparenting one they are one level further down, inside the manager's frames. Both are
walked, and each window is reported at its frame's place and size (title bar included),
with its title (``_NET_WM_NAME``, else ``WM_NAME``) and ``WM_CLASS`` instance and class.
"""

from __future__ import annotations

import threading
from typing import Any

from supportdesk.capture.mask_sources import DesktopWindow
from supportdesk.rfb.geometry import Rect


class X11WindowLister:
    """Lists windows on ``display`` (None: ``$DISPLAY``); one X connection per thread."""

    def __init__(self, display: str | None = None) -> None:
        self._display_name = display
        self._local = threading.local()

    def _display(self) -> Any:
        d = getattr(self._local, "display", None)
        if d is None:
            from Xlib import display as xdisplay  # lazily: only X11 programs list windows

            d = xdisplay.Display(self._display_name)
            self._local.display = d
        return d

    def __call__(self) -> list[DesktopWindow]:
        """The mapped top-level windows with a title or a class."""
        from Xlib import X
        from Xlib.error import XError

        d = self._display()
        net_name = d.intern_atom("_NET_WM_NAME")
        utf8 = d.intern_atom("UTF8_STRING")
        out: list[DesktopWindow] = []
        for frame in d.screen().root.query_tree().children:
            try:
                attrs = frame.get_attributes()
                if attrs.map_state != X.IsViewable:
                    continue
                geo = frame.get_geometry()
                rect = Rect(geo.x, geo.y, geo.width + 2 * geo.border_width, geo.height)
                rect = Rect(rect.x, rect.y, rect.width, rect.height + 2 * geo.border_width)
                for win in [frame, *frame.query_tree().children]:
                    named = _describe(win, net_name, utf8)
                    if named is not None:
                        out.append(DesktopWindow(named[0], named[1], rect))
                        break
            except XError:
                continue  # closed while we looked
        return out


def _describe(win: Any, net_name: int, utf8: int) -> tuple[str, tuple[str, ...]] | None:
    prop = win.get_full_property(net_name, utf8)
    if prop is not None and prop.value:
        value = prop.value
        title = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    else:
        name = win.get_wm_name()
        title = name.decode("latin-1") if isinstance(name, bytes) else (name or "")
    classes = win.get_wm_class() or ()
    if not title and not classes:
        return None
    return title, tuple(str(c) for c in classes)
