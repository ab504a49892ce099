"""The focused password field on macOS, asked of the accessibility API (AX) through ctypes.

:class:`AxSecretProbe` asks the system-wide element for ``AXFocusedUIElement``, and of
that element its ``AXRole`` and ``AXSubrole``: a secure text field (``NSSecureTextField``,
``<input type=password>`` in Safari and Chromium) has the subrole ``AXSecureTextField``
of the role ``AXTextField`` (older programs give it as the role). Then its
``AXPosition`` and ``AXSize``: points, origin at the top-left of the main display — the
coordinates ``CGDisplayBounds`` gives mss for the monitors.

Points become frame pixels with :func:`points_to_pixels` and a ``scale``, the captured
frame's pixels per point. The program's capture (mss, ``CGWindowListCreateImage`` with
``kCGWindowImageNominalResolution``) is at nominal resolution — one pixel per point
even on a Retina display (docs/applet.md) — so the scale is 1; a capture at the
display's backing scale would pass that (2 on Retina). Rounded outwards: a mask never
falls short of the field by a fraction of a point.

Needs the Accessibility permission (Datenschutz & Sicherheit → Bedienungshilfen), the
one the agent's input needs too: without it the probe does not open and automatic
masking is off for the session (the consent says so). Imports everywhere; opens on
macOS only.
"""

from __future__ import annotations

import ctypes
import math
import sys
from typing import Any

from supportdesk.capture.macos_frameworks import (
    CGPoint,
    CGSize,
    application_services,
    cf_string,
    cf_string_value,
    core_foundation,
)
from supportdesk.rfb.geometry import Rect

__all__ = ["SECURE_TEXT_FIELD", "AxSecretProbe", "is_secure_field", "points_to_pixels"]

SECURE_TEXT_FIELD = "AXSecureTextField"
_AX_SUCCESS = 0
_AX_NO_VALUE = -25212  # nothing has the focus
_AX_ATTRIBUTE_UNSUPPORTED = -25205
_AX_VALUE_CGPOINT = 1
_AX_VALUE_CGSIZE = 2
_MESSAGING_TIMEOUT = 0.25  # seconds a busy program may take to answer (the default is 6)


def is_secure_field(role: str | None, subrole: str | None) -> bool:
    """Whether an element with ``role`` and ``subrole`` is a password field."""
    return SECURE_TEXT_FIELD in (role, subrole)


def points_to_pixels(x: float, y: float, width: float, height: float, scale: float) -> Rect | None:
    """A rectangle in points as frame pixels at ``scale`` pixels per point, rounded
    outwards; None if it has no area."""
    if width <= 0 or height <= 0:
        return None
    left, top = math.floor(x * scale), math.floor(y * scale)
    right, bottom = math.ceil((x + width) * scale), math.ceil((y + height) * scale)
    return Rect(left, top, right - left, bottom - top)


class AxSecretProbe:
    """The focused element's rectangle if the AX API says it is a secure text field.

    Raises :class:`PermissionError` when opened without the Accessibility permission
    and :class:`OSError` when a question fails (the watcher keeps the last mask, then
    masks everything).
    """

    _ax: Any
    _cf: Any
    _scale: float
    _system: int
    _names: dict[str, int]

    def __init__(self, *, scale: float = 1.0) -> None:
        if sys.platform != "darwin":
            raise OSError("the macOS accessibility API exists on macOS only")
        self._ax = application_services()
        self._cf = core_foundation()
        if not self._ax.AXIsProcessTrusted():
            raise PermissionError("the Accessibility permission is not granted")
        self._scale = scale
        self._system = self._ax.AXUIElementCreateSystemWide()
        if not self._system:
            raise OSError("AXUIElementCreateSystemWide failed")
        self._ax.AXUIElementSetMessagingTimeout(self._system, _MESSAGING_TIMEOUT)
        names = ("AXFocusedUIElement", "AXRole", "AXSubrole", "AXPosition", "AXSize")
        self._names = {name: cf_string(name) for name in names}

    def _copy(self, element: int, name: str) -> tuple[int, int]:
        """(AXError, the attribute's value or 0); the caller releases the value."""
        value = ctypes.c_void_p()
        error = self._ax.AXUIElementCopyAttributeValue(
            element, self._names[name], ctypes.byref(value)
        )
        return int(error), int(value.value or 0)

    def _string(self, element: int, name: str) -> str | None:
        error, value = self._copy(element, name)
        if error != _AX_SUCCESS:
            return None
        try:
            return cf_string_value(value)
        finally:
            self._cf.CFRelease(value)

    def _struct(self, element: int, name: str, kind: int, out: ctypes.Structure) -> None:
        error, value = self._copy(element, name)
        if error != _AX_SUCCESS or not value:
            raise OSError(f"{name} of the focused field: AXError {error}")
        try:
            if not self._ax.AXValueGetValue(value, kind, ctypes.byref(out)):
                raise OSError(f"{name} of the focused field is not a {type(out).__name__}")
        finally:
            self._cf.CFRelease(value)

    def __call__(self) -> Rect | None:
        error, focused = self._copy(self._system, "AXFocusedUIElement")
        if error in (_AX_NO_VALUE, _AX_ATTRIBUTE_UNSUPPORTED):
            return None
        if error != _AX_SUCCESS or not focused:
            raise OSError(f"AXFocusedUIElement: AXError {error}")
        try:
            role = self._string(focused, "AXRole")
            subrole = self._string(focused, "AXSubrole")
            if not is_secure_field(role, subrole):
                return None
            position, size = CGPoint(), CGSize()
            self._struct(focused, "AXPosition", _AX_VALUE_CGPOINT, position)
            self._struct(focused, "AXSize", _AX_VALUE_CGSIZE, size)
            return points_to_pixels(position.x, position.y, size.width, size.height, self._scale)
        finally:
            self._cf.CFRelease(focused)

    def close(self) -> None:
        """Release what the probe holds."""
        for ref in self._names.values():
            self._cf.CFRelease(ref)
        self._names = {}
        if self._system:
            self._cf.CFRelease(self._system)
            self._system = 0
