"""The agent's RFB pointer button mask as the presses, releases and wheel notches a
platform's input API wants (Windows ``SendInput``, macOS ``CGEvent``).

RFB (RFC 6143, 7.5.5) sends the whole button state with every PointerEvent: bit 0 is
the left button, 1 the middle, 2 the right, 3/4 one wheel notch up/down, 5/6 one
notch left/right, 7 the "back" button (X button 8). X11 takes these bits as buttons;
the other platforms want "left button down" and "scroll by one notch", so this module
turns the change between two masks into those, in bit order. Pure: no platform code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = ["MASK_BITS", "Button", "ButtonChange", "WheelNotch", "held_buttons", "mask_changes"]

MASK_BITS = 8
"""Bits of the RFB button mask; higher bits are ignored."""


class Button(IntEnum):
    """A mouse button, valued by its bit in the RFB mask."""

    LEFT = 0
    MIDDLE = 1
    RIGHT = 2
    BACK = 7


@dataclass(frozen=True, slots=True)
class ButtonChange:
    """Press (``down``) or release ``button``."""

    button: Button
    down: bool


@dataclass(frozen=True, slots=True)
class WheelNotch:
    """One wheel notch: ``dy`` +1 up (away from the user), -1 down; ``dx`` +1 right, -1 left."""

    dx: int
    dy: int


# Wheel bits: a notch is the bit going from 0 to 1 (viewers send press, then release).
_WHEEL = {3: WheelNotch(0, 1), 4: WheelNotch(0, -1), 5: WheelNotch(-1, 0), 6: WheelNotch(1, 0)}
_BUTTONS = {b.value: b for b in Button}


def mask_changes(old: int, new: int) -> list[ButtonChange | WheelNotch]:
    """What happened between button masks ``old`` and ``new``, in bit order.

    A wheel bit counts once, when it is set; its release is nothing. Unknown bits
    (beyond :data:`MASK_BITS`) are ignored.
    """
    full = (1 << MASK_BITS) - 1
    old, new = old & full, new & full
    changed = old ^ new
    result: list[ButtonChange | WheelNotch] = []
    for bit in range(MASK_BITS):
        if not changed & (1 << bit):
            continue
        down = bool(new & (1 << bit))
        if bit in _WHEEL:
            if down:
                result.append(_WHEEL[bit])
        else:
            result.append(ButtonChange(_BUTTONS[bit], down))
    return result


def held_buttons(mask: int) -> list[Button]:
    """The (non-wheel) buttons pressed in ``mask``, in bit order."""
    return [b for b in Button if mask & (1 << b.value)]
