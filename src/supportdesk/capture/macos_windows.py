"""The windows on a macOS screen, for the bank's window rules: ``CGWindowListCopyWindowInfo``.

Each on-screen window (``kCGWindowListOptionOnScreenOnly``, without the desktop's
own) comes with its owner's name (``kCGWindowOwnerName``, the application as the Dock
names it: the rule's ``application``), its title (``kCGWindowName`` — given only to a
program with the Screen Recording permission, which the program needs to share the
screen at all; without it title rules match nothing and only application rules work)
and its bounds (``kCGWindowBounds``, points from the main display's top-left corner).
Points become frame pixels as for password fields (capture/macos_secrets.py: scale 1
for the program's nominal-resolution capture). Windows with no area or fully
transparent (``kCGWindowAlpha`` 0) are left out.

Imports everywhere; :class:`QuartzWindowLister` opens on macOS only.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from supportdesk.capture.macos_frameworks import (
    CGRect,
    cf_string_value,
    core_foundation,
    core_graphics,
)
from supportdesk.capture.macos_secrets import points_to_pixels
from supportdesk.capture.mask_sources import DesktopWindow

__all__ = ["QuartzWindowLister", "window_from_info"]

_ON_SCREEN_ONLY = 1 << 0
_EXCLUDE_DESKTOP_ELEMENTS = 1 << 4
_NULL_WINDOW = 0
_CF_NUMBER_DOUBLE = 13


def window_from_info(
    title: str | None,
    owner: str | None,
    bounds: tuple[float, float, float, float] | None,
    alpha: float | None,
    scale: float = 1.0,
) -> DesktopWindow | None:
    """One entry of the window list as a :class:`DesktopWindow`, None if it is not seen
    (no bounds or area, transparent) or has neither title nor owner."""
    if bounds is None or (alpha is not None and alpha <= 0.0):
        return None
    rect = points_to_pixels(*bounds, scale)
    if rect is None or not (title or owner):
        return None
    return DesktopWindow(title or "", (owner,) if owner else (), rect)


class QuartzWindowLister:
    """Lists the on-screen windows, front to back."""

    _cg: Any
    _cf: Any
    _scale: float
    _keys: dict[str, int | None]

    def __init__(self, *, scale: float = 1.0) -> None:
        if sys.platform != "darwin":
            raise OSError("the Quartz window list exists on macOS only")
        self._cg = core_graphics()
        self._cf = core_foundation()
        self._scale = scale
        self._keys = {
            name: ctypes.c_void_p.in_dll(self._cg, name).value
            for name in ("kCGWindowName", "kCGWindowOwnerName", "kCGWindowBounds", "kCGWindowAlpha")
        }

    def __call__(self) -> list[DesktopWindow]:
        """The on-screen windows with a title or an owner."""
        listing = self._cg.CGWindowListCopyWindowInfo(
            _ON_SCREEN_ONLY | _EXCLUDE_DESKTOP_ELEMENTS, _NULL_WINDOW
        )
        if not listing:
            raise OSError("CGWindowListCopyWindowInfo returned nothing")
        out: list[DesktopWindow] = []
        try:
            for i in range(self._cf.CFArrayGetCount(listing)):
                info = self._cf.CFArrayGetValueAtIndex(listing, i)
                window = window_from_info(
                    cf_string_value(self._get(info, "kCGWindowName")),
                    cf_string_value(self._get(info, "kCGWindowOwnerName")),
                    self._bounds(info),
                    self._alpha(info),
                    self._scale,
                )
                if window is not None:
                    out.append(window)
        finally:
            self._cf.CFRelease(listing)
        return out

    def _get(self, info: int, key: str) -> int:
        return int(self._cf.CFDictionaryGetValue(info, self._keys[key]) or 0)

    def _bounds(self, info: int) -> tuple[float, float, float, float] | None:
        ref = self._get(info, "kCGWindowBounds")
        rect = CGRect()
        if not ref or not self._cg.CGRectMakeWithDictionaryRepresentation(ref, ctypes.byref(rect)):
            return None
        return rect.origin.x, rect.origin.y, rect.size.width, rect.size.height

    def _alpha(self, info: int) -> float | None:
        ref = self._get(info, "kCGWindowAlpha")
        value = ctypes.c_double()
        if not ref or not self._cf.CFNumberGetValue(ref, _CF_NUMBER_DOUBLE, ctypes.byref(value)):
            return None
        return value.value
