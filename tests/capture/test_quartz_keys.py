"""RFB keysyms and pointer as Quartz events (the pure parts of the macOS backend), and
that the macOS modules import here and refuse plainly to run."""

from __future__ import annotations

import sys

import pytest

from supportdesk.capture import keysyms as ks
from supportdesk.capture.keysyms import char_to_keysym
from supportdesk.capture.macos_permissions import responsible_app
from supportdesk.capture.quartz_input import (
    ClickCounter,
    QuartzInputSink,
    button_event_type,
    move_event_type,
)
from supportdesk.capture.quartz_keys import (
    NO_KEY,
    MacKey,
    kCGEventFlagMaskAlternate,
    kCGEventFlagMaskCommand,
    kCGEventFlagMaskShift,
    modifier_flags,
    plan_key,
    utf16_units,
)
from supportdesk.capture.rfb_pointer import Button

SHIFT, OPTION, COMMAND = kCGEventFlagMaskShift, kCGEventFlagMaskAlternate, kCGEventFlagMaskCommand


def test_every_character_carries_its_text_and_ansi_characters_their_key() -> None:
    assert plan_key(ord("a"), []) == MacKey(0x00, "a", 0)
    assert plan_key(ord("A"), [ks.Shift_L]) == MacKey(0x00, "A", SHIFT)
    assert plan_key(ord("@"), [ks.Shift_L]) == MacKey(0x13, "@", SHIFT)  # Shift+2 position
    assert plan_key(ord("c"), [ks.Super_L]) == MacKey(0x08, "c", COMMAND)  # Cmd+C
    for char in "Grüße – 100 €":
        key = plan_key(char_to_keysym(char), [])
        assert key is not None and key.text == char
    assert plan_key(ord("ß"), []) == MacKey(NO_KEY, "ß", 0)
    assert plan_key(ks.EuroSign, [ks.ISO_Level3_Shift]) == MacKey(NO_KEY, "€", OPTION)


def test_named_keys_have_their_key_codes_and_no_text() -> None:
    assert plan_key(ks.Return, []) == MacKey(0x24, None, 0)
    assert plan_key(ks.BackSpace, []) == MacKey(0x33, None, 0)
    assert plan_key(ks.Delete, []) == MacKey(0x75, None, 0)
    assert plan_key(ks.Left, [ks.Shift_L]) == MacKey(0x7B, None, SHIFT)
    assert plan_key(ks.function_key(5), []) == MacKey(0x60, None, 0)
    assert plan_key(ks.Shift_L, [ks.Shift_L]) == MacKey(0x38, None, SHIFT)
    assert plan_key(0xFE50, []) is None  # a dead key: nothing to post


def test_modifier_flags_and_utf16() -> None:
    assert modifier_flags([ks.Shift_R, ks.Alt_L, ks.Meta_L, ord("x")]) == SHIFT | OPTION | COMMAND
    assert utf16_units("ä😀") == [0xE4, 0xD83D, 0xDE00]


def test_mouse_event_types() -> None:
    assert button_event_type(Button.LEFT, True) == (1, 0)
    assert button_event_type(Button.RIGHT, False) == (4, 1)
    assert button_event_type(Button.MIDDLE, True) == (25, 2)
    assert move_event_type(0) == (5, 0)
    assert move_event_type(0b100) == (7, 1)  # dragging with the right button
    assert move_event_type(0b101) == (6, 0)


def test_click_counter_makes_double_clicks() -> None:
    now = [100.0]
    clicks = ClickCounter(clock=lambda: now[0])
    assert clicks.press(Button.LEFT, 10, 10) == 1
    now[0] += 0.2
    assert clicks.press(Button.LEFT, 12, 11) == 2
    now[0] += 0.2
    assert clicks.press(Button.LEFT, 12, 11) == 3
    assert clicks.count == 3
    now[0] += 0.2
    assert clicks.press(Button.RIGHT, 12, 11) == 1  # another button
    now[0] += 1.0
    assert clicks.press(Button.RIGHT, 12, 11) == 1  # too late
    now[0] += 0.1
    assert clicks.press(Button.RIGHT, 40, 11) == 1  # too far


def test_the_program_named_in_the_privacy_lists() -> None:
    app = "/Applications/Fernwartung.app/Contents/MacOS/Fernwartung"
    assert responsible_app(app, {"TERM_PROGRAM": "Apple_Terminal"}) == "Fernwartung"
    assert (
        responsible_app("/Users/k/Downloads/fernwartung", {"TERM_PROGRAM": "Apple_Terminal"})
        == "Terminal"
    )
    assert (
        responsible_app("/Users/k/Downloads/fernwartung", {"TERM_PROGRAM": "iTerm.app"}) == "iTerm"
    )
    assert responsible_app("/Users/k/Downloads/fernwartung", {}) == "fernwartung"


@pytest.mark.skipif(sys.platform == "darwin", reason="on macOS it opens")
def test_the_sink_refuses_to_open_off_macos() -> None:
    with pytest.raises(OSError, match="macOS only"):
        QuartzInputSink()
