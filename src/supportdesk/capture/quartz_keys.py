"""RFB keysyms as Quartz keyboard events: which virtual key code, which characters
(``CGEventKeyboardSetUnicodeString``) and which modifier flags. Pure: no framework.

macOS delivers a posted key event's *characters* to the focused text field as they are
set on the event, whatever the keyboard layout, so every character goes with its
Unicode string: ``ä``, ``ß``, ``€``, ``–`` and emoji arrive on any layout. The virtual
key code still matters to shortcuts and to programs that read key codes, so a
character that sits on the US (ANSI) key positions gets that key's code, and any
other character code 0 (:data:`NO_KEY`). Navigation,
function, keypad and modifier keysyms are key codes from a fixed table (Carbon's
``Events.h`` ``kVK_*`` values). Posted events do not change the system's modifier
state, so the flags of the modifiers the agent holds are set on every event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from supportdesk.capture import keysyms as ks
from supportdesk.capture.keysyms import keysym_to_char, normalize_keysym

__all__ = ["NAMED_KEYS", "NO_KEY", "MacKey", "modifier_flags", "plan_key", "utf16_units"]

kCGEventFlagMaskAlphaShift: Final = 0x00010000
kCGEventFlagMaskShift: Final = 0x00020000
kCGEventFlagMaskControl: Final = 0x00040000
kCGEventFlagMaskAlternate: Final = 0x00080000
kCGEventFlagMaskCommand: Final = 0x00100000

NO_KEY: Final = 0
"""Key code for characters on no ANSI key: 0, as pynput and others post them (a code
the system does not know may be dropped); the characters set on the event decide what
is typed."""

# kVK_F1 .. kVK_F20
_FUNCTION_KEYS: Final = (
    0x7A, 0x78, 0x63, 0x76, 0x60, 0x61, 0x62, 0x64, 0x65, 0x6D,
    0x67, 0x6F, 0x69, 0x6B, 0x71, 0x6A, 0x40, 0x4F, 0x50, 0x5A,
)  # fmt: skip

NAMED_KEYS: Final[dict[int, int]] = {
    ks.Return: 0x24,
    ks.Linefeed: 0x24,
    ks.Tab: 0x30,
    ks.BackSpace: 0x33,  # kVK_Delete: the key left of Return
    ks.Escape: 0x35,
    ks.Delete: 0x75,  # kVK_ForwardDelete
    ks.Insert: 0x72,  # kVK_Help: where Insert is on Apple's extended keyboards
    ks.Home: 0x73,
    ks.End: 0x77,
    ks.Page_Up: 0x74,
    ks.Page_Down: 0x79,
    ks.Left: 0x7B,
    ks.Right: 0x7C,
    ks.Down: 0x7D,
    ks.Up: 0x7E,
    ks.Clear: 0x47,
    ks.Shift_L: 0x38,
    ks.Shift_R: 0x3C,
    ks.Control_L: 0x3B,
    ks.Control_R: 0x3E,
    ks.Alt_L: 0x3A,  # Option
    ks.Alt_R: 0x3D,
    ks.ISO_Level3_Shift: 0x3D,  # AltGr is right Option on a Mac
    ks.Mode_switch: 0x3D,
    ks.Super_L: 0x37,  # Command: viewers send the Windows/Command key as Super or Meta
    ks.Super_R: 0x36,
    ks.Meta_L: 0x37,
    ks.Meta_R: 0x36,
    ks.Caps_Lock: 0x39,
    ks.KP_Enter: 0x4C,
    ks.KP_Multiply: 0x43,
    ks.KP_Add: 0x45,
    ks.KP_Subtract: 0x4E,
    ks.KP_Decimal: 0x41,
    ks.KP_Divide: 0x4B,
    **dict(
        zip(
            range(ks.KP_0, ks.KP_9 + 1),
            (0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5B, 0x5C),
            strict=True,
        )
    ),
    **{ks.function_key(n): code for n, code in enumerate(_FUNCTION_KEYS, start=1)},
}

# Characters on the US (ANSI) key positions, unshifted and shifted.
_ANSI: Final[dict[str, int]] = {
    **dict(zip("asdfhgzxcv", range(0x00, 0x0A), strict=True)),
    "b": 0x0B, "q": 0x0C, "w": 0x0D, "e": 0x0E, "r": 0x0F, "y": 0x10, "t": 0x11,
    "1": 0x12, "2": 0x13, "3": 0x14, "4": 0x15, "6": 0x16, "5": 0x17, "=": 0x18,
    "9": 0x19, "7": 0x1A, "-": 0x1B, "8": 0x1C, "0": 0x1D, "]": 0x1E, "o": 0x1F,
    "u": 0x20, "[": 0x21, "i": 0x22, "p": 0x23, "l": 0x25, "j": 0x26, "'": 0x27,
    "k": 0x28, ";": 0x29, "\\": 0x2A, ",": 0x2B, "/": 0x2C, "n": 0x2D, "m": 0x2E,
    ".": 0x2F, " ": 0x31, "`": 0x32,
}  # fmt: skip
_SHIFTED: Final = dict(zip('!@#$%^&*()_+{}|:"<>?~', "1234567890-=[]\\;',./`", strict=True))

_FLAGS: Final[dict[int, int]] = {
    ks.Shift_L: kCGEventFlagMaskShift,
    ks.Shift_R: kCGEventFlagMaskShift,
    ks.Control_L: kCGEventFlagMaskControl,
    ks.Control_R: kCGEventFlagMaskControl,
    ks.Alt_L: kCGEventFlagMaskAlternate,
    ks.Alt_R: kCGEventFlagMaskAlternate,
    ks.ISO_Level3_Shift: kCGEventFlagMaskAlternate,
    ks.Mode_switch: kCGEventFlagMaskAlternate,
    ks.Super_L: kCGEventFlagMaskCommand,
    ks.Super_R: kCGEventFlagMaskCommand,
    ks.Meta_L: kCGEventFlagMaskCommand,
    ks.Meta_R: kCGEventFlagMaskCommand,
}


@dataclass(frozen=True, slots=True)
class MacKey:
    """One key for ``CGEventCreateKeyboardEvent``: key code, characters (None: the
    system's own for the code), and the modifier flags to set."""

    code: int
    text: str | None
    flags: int


def modifier_flags(held: Iterable[int]) -> int:
    """``CGEventFlags`` of the modifier keysyms in ``held``."""
    flags = 0
    for keysym in held:
        flags |= _FLAGS.get(keysym, 0)
    return flags


def plan_key(keysym: int, held: Iterable[int]) -> MacKey | None:
    """The key event for ``keysym`` while ``held`` are down; None if it is no key.

    A modifier's own event carries the flags including itself (pressed) — the caller
    adds it to ``held`` first.
    """
    keysym = normalize_keysym(keysym)
    flags = modifier_flags(held)
    code = NAMED_KEYS.get(keysym)
    if code is not None:
        return MacKey(code, None, flags)
    char = keysym_to_char(keysym)
    if char is None:
        return None
    base = _SHIFTED.get(char, char.lower() if char.isascii() else char)
    return MacKey(_ANSI.get(base, NO_KEY), char, flags)


def utf16_units(text: str) -> list[int]:
    """``text`` as the UTF-16 code units ``CGEventKeyboardSetUnicodeString`` takes."""
    data = text.encode("utf-16-le")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]
