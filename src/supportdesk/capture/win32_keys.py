"""RFB keysyms as Windows keyboard input: which ``KEYBDINPUT`` records press and release
a key, given the customer's keyboard layout. Pure: the layout comes in as a lookup.

The rules (the same as the X11 sink's, in Windows terms):

- Navigation, function, keypad and modifier keysyms are virtual keys from a fixed table
  (:data:`NAMED_KEYS`), with ``KEYEVENTF_EXTENDEDKEY`` where the key sits on the
  extended (E0) part of the keyboard — arrows, Insert/Delete/Home/End/PgUp/PgDn, right
  Ctrl and Alt, the Windows keys, keypad Enter and Divide.
- A character the layout has (``VkKeyScanExW``) is its virtual key, with Shift, and
  Ctrl+Alt for an AltGr character such as ``€`` on a German layout, pressed or
  released around it for the moment when the agent's held modifiers do not match, so
  shortcuts like Ctrl+C arrive as keys.
- Every other character (Umlaute on a US layout, ``ß``, ``€`` there, any Unicode) goes
  as ``KEYEVENTF_UNICODE``: the UTF-16 code units, which Windows delivers as
  ``WM_CHAR`` whatever the layout.
- Ctrl+Alt+Del is the secure attention sequence: only the keyboard driver can send it,
  a user-mode program cannot (``SendInput`` of it does nothing, Windows keeps it for
  Winlogon). :func:`is_ctrl_alt_del` spots it so the sink can refuse it plainly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from supportdesk.capture import keysyms as ks
from supportdesk.capture.keysyms import keysym_to_char, normalize_keysym

__all__ = [
    "KEYEVENTF_EXTENDEDKEY",
    "KEYEVENTF_KEYUP",
    "KEYEVENTF_UNICODE",
    "NAMED_KEYS",
    "KeyInput",
    "KeyStroke",
    "KeyboardLayout",
    "is_ctrl_alt_del",
    "plan_key",
]

KEYEVENTF_EXTENDEDKEY: Final = 0x0001
KEYEVENTF_KEYUP: Final = 0x0002
KEYEVENTF_UNICODE: Final = 0x0004

VK_LSHIFT: Final = 0xA0
VK_RSHIFT: Final = 0xA1
VK_LCONTROL: Final = 0xA2
VK_RCONTROL: Final = 0xA3
VK_LMENU: Final = 0xA4
VK_RMENU: Final = 0xA5

# keysym -> (virtual key, extended).  Sources: WinUser.h VK_* values; the extended keys
# are those whose scan code carries the E0 prefix (the "Keyboard Input" overview).
NAMED_KEYS: Final[dict[int, tuple[int, bool]]] = {
    ks.BackSpace: (0x08, False),
    ks.Tab: (0x09, False),
    ks.Clear: (0x0C, False),
    ks.Return: (0x0D, False),
    ks.Linefeed: (0x0D, False),
    ks.Pause: (0x13, False),
    ks.Break: (0x03, True),  # VK_CANCEL
    ks.Scroll_Lock: (0x91, False),
    ks.Sys_Req: (0x2C, True),  # VK_SNAPSHOT
    ks.Print: (0x2C, True),
    ks.Escape: (0x1B, False),
    ks.Delete: (0x2E, True),
    ks.Home: (0x24, True),
    ks.Left: (0x25, True),
    ks.Up: (0x26, True),
    ks.Right: (0x27, True),
    ks.Down: (0x28, True),
    ks.Page_Up: (0x21, True),
    ks.Page_Down: (0x22, True),
    ks.End: (0x23, True),
    ks.Insert: (0x2D, True),
    ks.Menu: (0x5D, True),  # VK_APPS
    ks.Num_Lock: (0x90, True),
    ks.Caps_Lock: (0x14, False),
    ks.Shift_L: (VK_LSHIFT, False),
    ks.Shift_R: (VK_RSHIFT, False),
    ks.Control_L: (VK_LCONTROL, False),
    ks.Control_R: (VK_RCONTROL, True),
    ks.Alt_L: (VK_LMENU, False),
    ks.Alt_R: (VK_RMENU, True),
    ks.Meta_L: (0x5B, True),  # VK_LWIN: viewers send the Windows key as Super or Meta
    ks.Meta_R: (0x5C, True),
    ks.Super_L: (0x5B, True),
    ks.Super_R: (0x5C, True),
    ks.ISO_Level3_Shift: (VK_RMENU, True),  # AltGr: right Alt, which AltGr layouts read so
    ks.Mode_switch: (VK_RMENU, True),
    # Keypad with Num Lock on ...
    ks.KP_Enter: (0x0D, True),
    ks.KP_Multiply: (0x6A, False),
    ks.KP_Add: (0x6B, False),
    ks.KP_Separator: (0x6C, False),
    ks.KP_Subtract: (0x6D, False),
    ks.KP_Decimal: (0x6E, False),
    ks.KP_Divide: (0x6F, True),
    **{ks.KP_0 + n: (0x60 + n, False) for n in range(10)},
    # ... and off: the same keys, not extended (that is what tells them from the arrows).
    0xFF95: (0x24, False),  # KP_Home
    0xFF96: (0x25, False),  # KP_Left
    0xFF97: (0x26, False),  # KP_Up
    0xFF98: (0x27, False),  # KP_Right
    0xFF99: (0x28, False),  # KP_Down
    0xFF9A: (0x21, False),  # KP_Page_Up
    0xFF9B: (0x22, False),  # KP_Page_Down
    0xFF9C: (0x23, False),  # KP_End
    0xFF9D: (0x0C, False),  # KP_Begin
    0xFF9E: (0x2D, False),  # KP_Insert
    0xFF9F: (0x2E, False),  # KP_Delete
    **{ks.function_key(n): (0x6F + n, False) for n in range(1, 25)},  # VK_F1 = 0x70
}

_SHIFTS: Final = frozenset({ks.Shift_L, ks.Shift_R})
_CONTROLS: Final = frozenset({ks.Control_L, ks.Control_R})
_ALTS: Final = frozenset({ks.Alt_L, ks.Alt_R, ks.Meta_L, ks.Meta_R})
_ALTGR: Final = frozenset({ks.ISO_Level3_Shift, ks.Mode_switch})
_DELETES: Final = frozenset({ks.Delete, 0xFF9F})


@dataclass(frozen=True, slots=True)
class KeyInput:
    """One ``KEYBDINPUT``: ``wVk``, ``wScan`` and ``dwFlags``."""

    vk: int
    scan: int
    flags: int


@dataclass(frozen=True, slots=True)
class KeyStroke:
    """What to send when the agent presses the key, and what when it is released."""

    down: tuple[KeyInput, ...]
    up: tuple[KeyInput, ...]


class KeyboardLayout(Protocol):
    """The customer's active keyboard layout, as ``user32`` describes it."""

    def char_key(self, char: str) -> tuple[int, int] | None:
        """``VkKeyScanExW``: (virtual key, shift state: 1 Shift, 2 Ctrl, 4 Alt), or None."""
        ...

    def scan_code(self, vk: int) -> int:
        """``MapVirtualKeyExW(vk, MAPVK_VK_TO_VSC)``: the key's scan code (0 if none)."""
        ...


def is_ctrl_alt_del(keysym: int, held: Sequence[int]) -> bool:
    """Whether pressing ``keysym`` with ``held`` down is Ctrl+Alt+Del (as noVNC sends it)."""
    pressed = set(held)
    return keysym in _DELETES and bool(pressed & _CONTROLS) and bool(pressed & (_ALTS | _ALTGR))


def plan_key(
    keysym: int, held: Sequence[int], layout: KeyboardLayout, *, caps_lock: bool = False
) -> KeyStroke | None:
    """The input records for pressing ``keysym`` while the keysyms ``held`` are down
    (in press order), or None for a keysym that is neither a named key nor a character.

    ``caps_lock``: Caps Lock is on, so a cased letter takes Shift the other way round.
    """
    keysym = normalize_keysym(keysym)
    named = NAMED_KEYS.get(keysym)
    if named is not None:
        vk, extended = named
        return _single(vk, layout.scan_code(vk), KEYEVENTF_EXTENDEDKEY if extended else 0)
    char = keysym_to_char(keysym)
    if char is None:
        return None
    found = layout.char_key(char)
    if found is not None:
        vk, state = found
        need_shift, need_ctrl, need_alt = bool(state & 1), bool(state & 2), bool(state & 4)
        if caps_lock and char.lower() != char.upper():
            need_shift = not need_shift
        # Only the plain, Shift and AltGr (Ctrl+Alt) levels are faked; Kana and the like
        # (bits 8, 16, 32) or Ctrl alone (control characters) go as Unicode.
        if state & ~0x07 == 0 and need_ctrl == need_alt:
            return _with_levels(vk, layout, held, shift=need_shift, altgr=need_ctrl)
    return _unicode(char)


def _single(vk: int, scan: int, flags: int) -> KeyStroke:
    return KeyStroke((KeyInput(vk, scan, flags),), (KeyInput(vk, scan, flags | KEYEVENTF_KEYUP),))


def _unicode(char: str) -> KeyStroke:
    data = char.encode("utf-16-le")
    units = [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]
    return KeyStroke(
        tuple(KeyInput(0, u, KEYEVENTF_UNICODE) for u in units),
        tuple(KeyInput(0, u, KEYEVENTF_UNICODE | KEYEVENTF_KEYUP) for u in units),
    )


def _with_levels(
    vk: int, layout: KeyboardLayout, held: Sequence[int], *, shift: bool, altgr: bool
) -> KeyStroke:
    """Press ``vk`` with Shift and AltGr as the character needs, then put them back."""

    def key(vk_: int, down: bool) -> KeyInput:
        extended = vk_ in (VK_RCONTROL, VK_RMENU)
        flags = (KEYEVENTF_EXTENDEDKEY if extended else 0) | (0 if down else KEYEVENTF_KEYUP)
        return KeyInput(vk_, layout.scan_code(vk_), flags)

    before: list[KeyInput] = []
    shifts = [NAMED_KEYS[k][0] for k in held if k in _SHIFTS]
    if shift and not shifts:
        before.append(key(VK_LSHIFT, True))
    elif not shift and shifts:
        before.extend(key(v, False) for v in shifts)
    altgrs = [k for k in held if k in _ALTGR]
    ctrl_alt_held = any(k in _CONTROLS for k in held) and any(k in _ALTS for k in held)
    if altgr and not altgrs and not ctrl_alt_held:
        before.extend([key(VK_LCONTROL, True), key(VK_RMENU, True)])
    elif not altgr and altgrs:
        before.append(key(VK_RMENU, False))
    # Afterwards every faked change is undone, last first.
    after = [key(k.vk, bool(k.flags & KEYEVENTF_KEYUP)) for k in reversed(before)]
    scan = layout.scan_code(vk)
    return KeyStroke(
        (*before, KeyInput(vk, scan, 0), *after), (KeyInput(vk, scan, KEYEVENTF_KEYUP),)
    )
