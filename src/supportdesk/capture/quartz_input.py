"""The macOS input sink: the agent's RFB keys and pointer as Quartz events.

``CGEventCreateKeyboardEvent`` (characters set with ``CGEventKeyboardSetUnicodeString``,
see :mod:`.quartz_keys`), ``CGEventCreateMouseEvent`` (moved, dragged, down, up, with
the click count for double clicks), ``CGEventCreateScrollWheelEvent2`` (one line per
wheel notch), each posted with ``CGEventPost(kCGHIDEventTap, …)`` through ctypes
(:mod:`.macos_frameworks`). Positions are global display coordinates in points,
which is what mss captures in (it grabs at nominal resolution), so RFB pixels are
points.

macOS drops posted events silently unless the program is trusted for Accessibility
(Systemeinstellungen → Datenschutz & Sicherheit → Bedienungshilfen), so the sink
refuses to open without it (PermissionError): the lazy sink then drops the agent's
input and keeps the reason, instead of pretending. The contract is the X11 sink's:
starts disabled, drops while disabled, releases held keys and buttons when disabled,
on :meth:`QuartzInputSink.release_all` and :meth:`QuartzInputSink.close`.

Imports on every platform; the frameworks are loaded when a sink is created.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from supportdesk.capture import keysyms as ks
from supportdesk.capture.macos_frameworks import CGPoint, core_foundation, core_graphics
from supportdesk.capture.quartz_keys import MacKey, modifier_flags, plan_key, utf16_units
from supportdesk.capture.rfb_pointer import Button, ButtonChange, held_buttons, mask_changes
from supportdesk.capture.sink_gate import SinkGate

__all__ = ["ClickCounter", "QuartzInputSink", "button_event_type", "move_event_type"]

log = logging.getLogger(__name__)

kCGHIDEventTap: Final = 0
kCGScrollEventUnitLine: Final = 1
kCGMouseEventClickState: Final = 1
kCGEventMouseMoved: Final = 5

# button -> (Quartz button number, down type, up type, dragged type)
_BUTTONS: Final[dict[Button, tuple[int, int, int, int]]] = {
    Button.LEFT: (0, 1, 2, 6),
    Button.RIGHT: (1, 3, 4, 7),
    Button.MIDDLE: (2, 25, 26, 27),
    Button.BACK: (3, 25, 26, 27),
}


def button_event_type(button: Button, down: bool) -> tuple[int, int]:
    """(``CGEventType``, ``CGMouseButton``) pressing or releasing ``button``."""
    number, down_type, up_type, _ = _BUTTONS[button]
    return (down_type if down else up_type), number


def move_event_type(mask: int) -> tuple[int, int]:
    """(``CGEventType``, ``CGMouseButton``) of a move with the buttons of ``mask`` held:
    dragged with the first held button, else moved."""
    held = held_buttons(mask)
    if not held:
        return kCGEventMouseMoved, 0
    number, _, _, dragged = _BUTTONS[held[0]]
    return dragged, number


@dataclass
class ClickCounter:
    """The click count macOS wants on every press (2 makes a double click): a press of
    the same button near the last one within ``interval`` seconds counts on."""

    interval: float = 0.5
    slop: float = 4.0
    clock: Callable[[], float] = time.monotonic
    _last: tuple[Button, float, float, float] | None = None
    _count: int = 0

    def press(self, button: Button, x: float, y: float) -> int:
        now = self.clock()
        last = self._last
        near = (
            last is not None
            and last[0] == button
            and now - last[3] <= self.interval
            and abs(x - last[1]) <= self.slop
            and abs(y - last[2]) <= self.slop
        )
        self._count = self._count + 1 if near else 1
        self._last = (button, x, y, now)
        return self._count

    @property
    def count(self) -> int:
        """The count of the last press (its release carries the same)."""
        return self._count


def accessibility_trusted() -> bool:
    """Whether macOS lets this program post input events (Accessibility)."""
    from supportdesk.capture.macos_permissions import accessibility_granted

    return accessibility_granted(prompt=False)


def displays_origin(cg: Any) -> tuple[float, float]:
    """Top-left corner of all displays together (mss's monitor 0), in points."""
    count = ctypes.c_uint32(0)
    ids = (ctypes.c_uint32 * 32)()
    if cg.CGGetActiveDisplayList(32, ids, ctypes.byref(count)) != 0 or count.value == 0:
        return 0.0, 0.0
    bounds = [cg.CGDisplayBounds(ids[i]) for i in range(count.value)]
    return min(b.origin.x for b in bounds), min(b.origin.y for b in bounds)


class QuartzInputSink(SinkGate):
    """Post RFB input as Quartz events into the customer's login session.

    ``origin`` is the top-left corner, in global display points, of the monitor being
    shared; by default that of all displays together (monitor 0).
    """

    def __init__(self, *, origin: tuple[float, float] | None = None, enabled: bool = False) -> None:
        self._cg = core_graphics()
        self._cf = core_foundation()
        if not accessibility_trusted():
            raise PermissionError("macOS has not granted this program Accessibility")
        super().__init__(enabled)
        self.origin = origin if origin is not None else displays_origin(self._cg)
        self._pressed: dict[int, MacKey] = {}  # RFB keysym -> the key it pressed
        self._mask = 0
        self._point = CGPoint(*self.origin)
        self._clicks = ClickCounter()

    def key_event(self, keysym: int, down: bool) -> bool:
        """Press or release ``keysym``; False if dropped (disabled, unknown)."""
        with self._lock:
            if not self._enabled or self._closed:
                return False
            if not down:
                key = self._pressed.pop(keysym, None)
                if key is None:
                    return False
                self._post_key(key, False)
                return True
            if keysym in self._pressed:  # the viewer's auto-repeat: release first
                self._post_key(self._pressed.pop(keysym), False)
            # A modifier's own press carries its flag: it is held from now on.
            held = [*self._pressed, keysym] if keysym in ks.MODIFIERS else list(self._pressed)
            key = plan_key(keysym, held)
            if key is None:
                log.debug("keysym 0x%x has no Mac key; dropped", keysym)
                return False
            self._pressed[keysym] = key
            self._post_key(key, True)
            return True

    def pointer_event(self, x: int, y: int, button_mask: int) -> bool:
        """Move to ``(x, y)`` relative to :attr:`origin`, then press/release buttons and
        scroll as the mask changed. False if disabled."""
        with self._lock:
            if not self._enabled or self._closed:
                return False
            point = CGPoint(self.origin[0] + x, self.origin[1] + y)
            if (point.x, point.y) != (self._point.x, self._point.y):
                self._point = point
                self._post_mouse(*move_event_type(self._mask))
            for change in mask_changes(self._mask, button_mask):
                if isinstance(change, ButtonChange):
                    self._press(change)
                else:
                    self._scroll(change.dy, -change.dx)
            self._mask = button_mask & 0xFF
            return True

    def _release_all(self) -> None:
        for keysym in reversed(list(self._pressed)):
            self._post_key(self._pressed.pop(keysym), False)
        for button in held_buttons(self._mask):
            self._press(ButtonChange(button, False))
        self._mask = 0

    # -- posting ------------------------------------------------------------------------

    def _flags(self) -> int:
        return modifier_flags(self._pressed)

    def _post(self, event: Any) -> None:
        if not event:
            log.warning("Quartz refused to create an event; dropped")
            return
        try:
            self._cg.CGEventPost(kCGHIDEventTap, event)
        finally:
            self._cf.CFRelease(event)

    def _post_key(self, key: MacKey, down: bool) -> None:
        event = self._cg.CGEventCreateKeyboardEvent(None, key.code, down)
        if event and key.text is not None:
            units = utf16_units(key.text)
            self._cg.CGEventKeyboardSetUnicodeString(
                event, len(units), (ctypes.c_uint16 * len(units))(*units)
            )
        if event:
            # Pressed: the key's own flags (a modifier includes itself); released: what
            # is still held.
            self._cg.CGEventSetFlags(event, key.flags if down else self._flags())
        self._post(event)

    def _post_mouse(self, event_type: int, button: int, clicks: int = 0) -> None:
        event = self._cg.CGEventCreateMouseEvent(None, event_type, self._point, button)
        if event:
            self._cg.CGEventSetFlags(event, self._flags())
            if clicks:
                self._cg.CGEventSetIntegerValueField(event, kCGMouseEventClickState, clicks)
        self._post(event)

    def _press(self, change: ButtonChange) -> None:
        event_type, number = button_event_type(change.button, change.down)
        if change.down:
            clicks = self._clicks.press(change.button, self._point.x, self._point.y)
        else:
            clicks = max(self._clicks.count, 1)
        self._post_mouse(event_type, number, clicks)

    def _scroll(self, lines_up: int, lines_left: int) -> None:
        # wheel1 is vertical (positive: up), wheel2 horizontal (positive: left).
        event = self._cg.CGEventCreateScrollWheelEvent2(
            None, kCGScrollEventUnitLine, 2, lines_up, lines_left, 0
        )
        if event:
            self._cg.CGEventSetFlags(event, self._flags())
        self._post(event)
