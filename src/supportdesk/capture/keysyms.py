"""X11 keysym constants used by RFB KeyEvents, and the mapping from characters to keysyms.

RFB (RFC 6143, 7.5.4) carries keys as X11 keysyms.  Latin-1 characters use their code
point; every other Unicode character ``c`` is ``0x01000000 + ord(c)``, except for the
legacy keysyms that X servers and viewers use in practice (``EuroSign`` is ``0x20ac``).
"""

from __future__ import annotations

from typing import Final

NoSymbol: Final = 0x0000

# TTY function keys
BackSpace: Final = 0xFF08
Tab: Final = 0xFF09
Linefeed: Final = 0xFF0A
Clear: Final = 0xFF0B
Return: Final = 0xFF0D
Pause: Final = 0xFF13
Scroll_Lock: Final = 0xFF14
Sys_Req: Final = 0xFF15
Escape: Final = 0xFF1B
Delete: Final = 0xFFFF

# Cursor control
Home: Final = 0xFF50
Left: Final = 0xFF51
Up: Final = 0xFF52
Right: Final = 0xFF53
Down: Final = 0xFF54
Page_Up: Final = 0xFF55
Page_Down: Final = 0xFF56
End: Final = 0xFF57

# Misc functions
Print: Final = 0xFF61
Insert: Final = 0xFF63
Menu: Final = 0xFF67
Break: Final = 0xFF6B
Mode_switch: Final = 0xFF7E
Num_Lock: Final = 0xFF7F

# Keypad
KP_Enter: Final = 0xFF8D
KP_Multiply: Final = 0xFFAA
KP_Add: Final = 0xFFAB
KP_Separator: Final = 0xFFAC
KP_Subtract: Final = 0xFFAD
KP_Decimal: Final = 0xFFAE
KP_Divide: Final = 0xFFAF
KP_0: Final = 0xFFB0
KP_9: Final = 0xFFB9

# Function keys F1..F24
F1: Final = 0xFFBE
F12: Final = 0xFFC9


def function_key(n: int) -> int:
    """Return the keysym of function key F``n`` (1..35)."""
    if not 1 <= n <= 35:
        raise ValueError(f"no function key F{n}")
    return F1 + n - 1


# Modifiers
Shift_L: Final = 0xFFE1
Shift_R: Final = 0xFFE2
Control_L: Final = 0xFFE3
Control_R: Final = 0xFFE4
Caps_Lock: Final = 0xFFE5
Shift_Lock: Final = 0xFFE6
Meta_L: Final = 0xFFE7
Meta_R: Final = 0xFFE8
Alt_L: Final = 0xFFE9
Alt_R: Final = 0xFFEA
Super_L: Final = 0xFFEB
Super_R: Final = 0xFFEC
Hyper_L: Final = 0xFFED
Hyper_R: Final = 0xFFEE
ISO_Level3_Shift: Final = 0xFE03
ISO_Level5_Shift: Final = 0xFE11

MODIFIERS: Final[frozenset[int]] = frozenset(
    {
        Shift_L,
        Shift_R,
        Control_L,
        Control_R,
        Caps_Lock,
        Shift_Lock,
        Meta_L,
        Meta_R,
        Alt_L,
        Alt_R,
        Super_L,
        Super_R,
        Hyper_L,
        Hyper_R,
        ISO_Level3_Shift,
        ISO_Level5_Shift,
        Mode_switch,
        Num_Lock,
    }
)
"""Keysyms of modifier keys: pressed as they are, never with fake Shift or AltGr."""

# Latin-1 characters that appear in tests and German text (keysym == code point)
space: Final = 0x0020
at: Final = 0x0040
adiaeresis: Final = 0x00E4
odiaeresis: Final = 0x00F6
udiaeresis: Final = 0x00FC
Adiaeresis: Final = 0x00C4
Odiaeresis: Final = 0x00D6
Udiaeresis: Final = 0x00DC
ssharp: Final = 0x00DF
section: Final = 0x00A7
degree: Final = 0x00B0
mu: Final = 0x00B5

# Legacy (non-Unicode) keysyms for characters outside Latin-1
EuroSign: Final = 0x20AC

UNICODE_OFFSET: Final = 0x01000000

_LEGACY_BY_CHAR: Final[dict[str, int]] = {"€": EuroSign}
_CHAR_BY_LEGACY: Final[dict[int, str]] = {v: k for k, v in _LEGACY_BY_CHAR.items()}
_CONTROL_CHARS: Final[dict[str, int]] = {
    "\n": Return,
    "\r": Return,
    "\t": Tab,
    "\b": BackSpace,
    "\x1b": Escape,
    "\x7f": Delete,
}


def char_to_keysym(char: str) -> int:
    """Return the keysym an RFB viewer sends for the single character ``char``.

    Latin-1 characters map to their code point, ``€`` to ``EuroSign`` (0x20ac),
    newline/tab/backspace/escape to their function keysyms, and every other
    character to ``0x01000000 + ord(char)``.
    """
    if len(char) != 1:
        raise ValueError(f"expected one character, got {char!r}")
    if char in _CONTROL_CHARS:
        return _CONTROL_CHARS[char]
    if char in _LEGACY_BY_CHAR:
        return _LEGACY_BY_CHAR[char]
    cp = ord(char)
    if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF:
        return cp
    if cp < 0x20 or 0x7F <= cp < 0xA0:
        raise ValueError(f"no keysym for control character {char!r}")
    return UNICODE_OFFSET + cp


def keysym_to_char(keysym: int) -> str | None:
    """Return the character a keysym types, or None for function and modifier keys."""
    keysym = normalize_keysym(keysym)
    if 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:
        return chr(keysym)
    if keysym in _CHAR_BY_LEGACY:
        return _CHAR_BY_LEGACY[keysym]
    if UNICODE_OFFSET + 0x100 <= keysym <= UNICODE_OFFSET + 0x10FFFF:
        return chr(keysym - UNICODE_OFFSET)
    return None


def normalize_keysym(keysym: int) -> int:
    """Fold Unicode keysyms that have a classic equivalent into it.

    Viewers may send ``0x010000e4`` for ``ä``; keyboard maps hold ``0x00e4``.  The
    same holds for ``0x010020ac`` and ``EuroSign``.  Other keysyms pass unchanged.
    """
    if UNICODE_OFFSET <= keysym <= UNICODE_OFFSET + 0x10FFFF:
        cp = keysym - UNICODE_OFFSET
        if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF:
            return cp
        legacy = _LEGACY_BY_CHAR.get(chr(cp))
        if legacy is not None:
            return legacy
    return keysym


def text_to_keysyms(text: str) -> list[int]:
    """Return the keysyms that type ``text``, one per character."""
    return [char_to_keysym(c) for c in text]
