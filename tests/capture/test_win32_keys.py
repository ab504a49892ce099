"""RFB keysyms as Windows keyboard input, against layouts written down as the tables
``VkKeyScanExW`` answers with on a US and a German keyboard. Also the pure parts of
the Windows sink (pointer scaling, button flags), and that its modules import here."""

from __future__ import annotations

import sys

import pytest

from supportdesk.capture import keysyms as ks
from supportdesk.capture import win32_keys as wk
from supportdesk.capture.keysyms import char_to_keysym
from supportdesk.capture.rfb_pointer import Button, ButtonChange
from supportdesk.capture.win32_input import (
    MOUSEEVENTF_LEFTDOWN,
    MOUSEEVENTF_RIGHTUP,
    MOUSEEVENTF_XDOWN,
    Win32InputSink,
    absolute_position,
    button_flags,
)
from supportdesk.capture.win32_keys import KeyInput, is_ctrl_alt_del, plan_key

EXT, UP, UNICODE = wk.KEYEVENTF_EXTENDEDKEY, wk.KEYEVENTF_KEYUP, wk.KEYEVENTF_UNICODE
SHIFT, CTRL, ALT = 1, 2, 4
# Set-1 scan codes of the keys used here (what MapVirtualKeyExW answers).
SCANS = {
    0x41: 0x1E, 0x43: 0x2E, 0x45: 0x12, 0x51: 0x10, 0x32: 0x03, 0xA0: 0x2A, 0xA1: 0x36,
    0xA2: 0x1D, 0xA5: 0x38, 0x2E: 0x53, 0x25: 0x4B, 0x0D: 0x1C, 0xDE: 0x28, 0xDB: 0x0C,
}  # fmt: skip


class TableLayout:
    def __init__(self, keys: dict[str, tuple[int, int]]) -> None:
        self.keys = keys

    def char_key(self, char: str) -> tuple[int, int] | None:
        return self.keys.get(char)

    def scan_code(self, vk: int) -> int:
        return SCANS.get(vk, 0)


def letters() -> dict[str, tuple[int, int]]:
    table = {c: (ord(c.upper()), 0) for c in "abcdefghijklmnopqrstuvwxyz"}
    table.update({c.upper(): (ord(c.upper()), SHIFT) for c in table})
    table.update({str(n): (0x30 + n, 0) for n in range(10)})
    table[" "] = (0x20, 0)
    return table


US = TableLayout({**letters(), "@": (0x32, SHIFT), "!": (0x31, SHIFT), "-": (0xBD, 0)})
DE = TableLayout(
    {**letters(), "ä": (0xDE, 0), "Ä": (0xDE, SHIFT), "ß": (0xDB, 0), "@": (0x51, CTRL | ALT),
     "€": (0x45, CTRL | ALT), "!": (0x31, SHIFT), "-": (0xBD, 0)}
)  # fmt: skip


def key(vk: int, flags: int = 0) -> KeyInput:
    return KeyInput(vk, SCANS.get(vk, 0), flags)


def test_a_plain_letter_is_its_virtual_key() -> None:
    stroke = plan_key(ord("a"), [], US)
    assert stroke is not None
    assert stroke.down == (key(0x41),)
    assert stroke.up == (key(0x41, UP),)


def test_shift_is_pressed_around_a_capital_and_released_around_a_small_letter() -> None:
    capital = plan_key(ord("A"), [], US)
    assert capital is not None
    assert capital.down == (key(0xA0), key(0x41), key(0xA0, UP))
    assert capital.up == (key(0x41, UP),)
    # The agent holds Shift (right) and the viewer sends "a" (Caps Lock on its side).
    small = plan_key(ord("a"), [ks.Shift_R], US)
    assert small is not None
    assert small.down == (key(0xA1, UP), key(0x41), key(0xA1))
    held = plan_key(ord("A"), [ks.Shift_L], US)
    assert held is not None and held.down == (key(0x41),)


def test_caps_lock_on_turns_shift_round_for_letters_only() -> None:
    capital = plan_key(ord("A"), [], US, caps_lock=True)
    assert capital is not None and capital.down == (key(0x41),)
    digit = plan_key(ord("1"), [], US, caps_lock=True)
    assert digit is not None and digit.down == (key(0x31),)


def test_ctrl_c_arrives_as_keys_for_shortcuts() -> None:
    stroke = plan_key(ord("c"), [ks.Control_L], DE)
    assert stroke is not None and stroke.down == (key(0x43),)


def test_altgr_characters_of_the_layout_are_typed_with_ctrl_alt() -> None:
    euro = plan_key(ks.EuroSign, [], DE)
    assert euro is not None
    assert euro.down == (key(0xA2), key(0xA5, EXT), key(0x45), key(0xA5, EXT | UP), key(0xA2, UP))
    # The agent holds AltGr already: nothing is faked.
    at = plan_key(ord("@"), [ks.ISO_Level3_Shift], DE)
    assert at is not None and at.down == (key(0x51),)
    # On a US layout "@" is Shift+2, and a held AltGr is let go for the moment.
    us_at = plan_key(ord("@"), [ks.ISO_Level3_Shift], US)
    assert us_at is not None
    assert us_at.down == (key(0xA0), key(0xA5, EXT | UP), key(0x32), key(0xA5, EXT), key(0xA0, UP))


def test_characters_the_layout_lacks_go_as_unicode() -> None:
    text = "Grüße – 100 €"
    for layout in (US, DE):
        for char in text:
            stroke = plan_key(char_to_keysym(char), [], layout)
            assert stroke is not None
            if layout.char_key(char) is None:
                assert stroke.down == (KeyInput(0, ord(char), UNICODE),)
                assert stroke.up == (KeyInput(0, ord(char), UNICODE | UP),)
    umlaut = plan_key(ord("ü"), [], US)
    assert umlaut is not None and umlaut.down == (KeyInput(0, 0xFC, UNICODE),)
    sharp_s = plan_key(ord("ß"), [], DE)
    assert sharp_s is not None and sharp_s.down == (key(0xDB),)


def test_a_character_beyond_the_bmp_is_a_surrogate_pair() -> None:
    stroke = plan_key(char_to_keysym("😀"), [], US)
    assert stroke is not None
    assert [k.scan for k in stroke.down] == [0xD83D, 0xDE00]
    assert all(k.flags == UNICODE | UP for k in stroke.up)


def test_named_keys_carry_the_extended_flag_where_the_keyboard_has_e0() -> None:
    cases = {
        ks.Left: (0x25, EXT),
        ks.Delete: (0x2E, EXT),
        ks.Return: (0x0D, 0),
        ks.KP_Enter: (0x0D, EXT),
        0xFF96: (0x25, 0),  # KP_Left: the keypad's arrow, not extended
        ks.Control_R: (0xA3, EXT),
        ks.Shift_L: (0xA0, 0),
        ks.Super_L: (0x5B, EXT),
        ks.function_key(1): (0x70, 0),
        ks.function_key(24): (0x87, 0),
        ks.KP_0 + 7: (0x67, 0),
    }
    for keysym, (vk, flags) in cases.items():
        stroke = plan_key(keysym, [], US)
        assert stroke is not None
        assert stroke.down == (key(vk, flags),), hex(keysym)
        assert stroke.up == (key(vk, flags | UP),)


def test_unknown_keysyms_are_dropped() -> None:
    assert plan_key(0xFE50, [], US) is None  # dead_grave: not a key of its own


def test_ctrl_alt_del_is_recognised_as_novnc_sends_it() -> None:
    held = [ks.Control_L, ks.Alt_L]
    assert is_ctrl_alt_del(ks.Delete, held)
    assert is_ctrl_alt_del(0xFF9F, [ks.Control_R, ks.ISO_Level3_Shift])  # KP_Delete, AltGr
    assert not is_ctrl_alt_del(ks.Delete, [ks.Control_L])
    assert not is_ctrl_alt_del(ks.BackSpace, held)


def test_pointer_positions_scale_over_the_virtual_screen() -> None:
    virtual = (-1920, 0, 3840, 1080)  # a second monitor left of the primary
    assert absolute_position(-1920, 0, virtual) == (0, 0)
    assert absolute_position(1919, 1079, virtual) == (65535, 65535)
    assert absolute_position(0, 540, virtual) == (32776, 32798)
    assert absolute_position(5000, -5, virtual) == (65535, 0)  # clamped


def test_button_flags() -> None:
    assert button_flags(ButtonChange(Button.LEFT, True)) == (MOUSEEVENTF_LEFTDOWN, 0)
    assert button_flags(ButtonChange(Button.RIGHT, False)) == (MOUSEEVENTF_RIGHTUP, 0)
    assert button_flags(ButtonChange(Button.BACK, True)) == (MOUSEEVENTF_XDOWN, 1)


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows it opens")
def test_the_sink_refuses_to_open_off_windows() -> None:
    with pytest.raises(OSError, match="Windows only"):
        Win32InputSink()


def test_the_input_structure_is_laid_out_as_winuser_h_says() -> None:
    # SendInput fails with ERROR_INVALID_PARAMETER when cbSize is not sizeof(INPUT) as
    # WinUser.h lays it out: the type, padded to pointer alignment, then the union,
    # whose largest member is MOUSEINPUT. On Windows (LLP64) that is 40 bytes on 64-bit
    # and 28 on 32-bit; here (LP64) the same rule gives other sizes.
    import ctypes

    from supportdesk.capture.win32_input import INPUT, MOUSEINPUT

    pointer = ctypes.sizeof(ctypes.c_void_p)
    assert INPUT.u.offset == pointer
    assert ctypes.sizeof(INPUT) == pointer + ctypes.sizeof(MOUSEINPUT)
    if sys.platform == "win32":
        assert ctypes.sizeof(INPUT) == (40 if pointer == 8 else 28)
