"""XTEST input sink against a real Xvfb desktop: typing into xterm, pointer and buttons."""

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportdesk.capture import keysyms as ks
from supportdesk.capture.input_sink import XTestInputSink

try:
    from tests.desktop import Desktop, require_tool, requires_xvfb, wait_until
except ModuleNotFoundError:
    from desktop import Desktop, require_tool, requires_xvfb, wait_until  # type: ignore[no-redef,import-not-found]

pytestmark = [pytest.mark.desktop, requires_xvfb]


def type_text(sink: XTestInputSink, text: str) -> None:
    """Send one press and release per character, as a viewer without modifiers would."""
    for char in text:
        keysym = ks.char_to_keysym(char)
        assert sink.key_event(keysym, True)
        assert sink.key_event(keysym, False)
    sink.sync()


def read_when_line_complete(path: Path, timeout: float = 5.0) -> str:
    def complete() -> str | None:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        return text if text.endswith("\n") else None

    return str(wait_until(complete, timeout, what=f"a full line in {path}"))


def keys_down(desk: Desktop) -> list[int]:
    d = desk.connect()
    try:
        bitmap = d.query_keymap()
        return [i * 8 + b for i, byte in enumerate(bitmap) for b in range(8) if byte & (1 << b)]
    finally:
        d.close()


def pointer(desk: Desktop) -> tuple[int, int, int]:
    d = desk.connect()
    try:
        reply = d.screen().root.query_pointer()
        return int(reply.root_x), int(reply.root_y), int(reply.mask)
    finally:
        d.close()


@pytest.fixture
def cat_xterm(desktop: Desktop, tmp_path: Path) -> Iterator[Path]:
    """An xterm running ``cat > out.txt``, focused; yields the output path."""
    out = tmp_path / "out.txt"
    _, window = desktop.xterm(["sh", "-c", f"exec cat > '{out}'"], geometry="80x10+0+0")
    desktop.focus(window)
    yield out


def test_german_layout_types_umlauts_and_altgr_characters(
    desktop: Desktop, cat_xterm: Path
) -> None:
    require_tool("setxkbmap")
    desktop.run("setxkbmap", "de")
    assert "de" in desktop.run("setxkbmap", "-query")
    text = "echo Grüße ß € @ ÄÖÜ äöü {[]} \\ | ~ µ ²³ Zoë? y=z!\n"
    with XTestInputSink(desktop.display, enabled=True) as sink:
        type_text(sink, text.replace("ë", ""))
        assert sink._remapped == {}, "everything but ë is on the German map"
    assert read_when_line_complete(cat_xterm) == text.replace("ë", "")
    assert keys_down(desktop) == []


def test_us_layout_remaps_spare_keycodes_and_restores_them(
    desktop: Desktop, cat_xterm: Path
) -> None:
    d = desktop.connect()
    before = [list(row) for row in d.get_keyboard_mapping(8, 248)]
    d.close()
    text = "echo Grüße ß € ÄÖÜ → ½ @ Zoë\n"
    with XTestInputSink(desktop.display, enabled=True) as sink:
        type_text(sink, text)
        assert {ks.ssharp, ks.EuroSign, ks.udiaeresis} <= set(sink._remapped)
        assert read_when_line_complete(cat_xterm) == text
    d = desktop.connect()
    after = [list(row) for row in d.get_keyboard_mapping(8, 248)]
    d.close()
    assert after == before


def test_viewer_style_modifiers_are_respected(desktop: Desktop, cat_xterm: Path) -> None:
    """Viewers send Shift/AltGr themselves: Shift+a types 'A' only if the viewer sends 'A'."""
    desktop.run("setxkbmap", "de")
    with XTestInputSink(desktop.display, enabled=True) as sink:
        sink.key_event(ks.Shift_L, True)
        for keysym in (ord("H"), ord("a"), ks.Adiaeresis, ord("!")):  # 'a': viewer caps lock
            sink.key_event(keysym, True)
            sink.key_event(keysym, False)
        sink.key_event(ks.Shift_L, False)
        sink.key_event(ks.ISO_Level3_Shift, True)
        sink.key_event(ord("@"), True)
        sink.key_event(ord("@"), False)
        sink.key_event(ks.ISO_Level3_Shift, False)
        type_text(sink, "\n")
    assert read_when_line_complete(cat_xterm) == "HaÄ!@\n"


def test_layout_change_while_the_sink_lives(desktop: Desktop, cat_xterm: Path) -> None:
    with XTestInputSink(desktop.display, enabled=True) as sink:
        type_text(sink, "yz")
        desktop.run("setxkbmap", "de")  # swaps the y and z keys
        time.sleep(0.1)
        type_text(sink, "yz\n")
    assert read_when_line_complete(cat_xterm) == "yzyz\n"


def test_nothing_is_injected_while_disabled(desktop: Desktop, cat_xterm: Path) -> None:
    start = pointer(desktop)
    with XTestInputSink(desktop.display) as sink:
        assert not sink.enabled
        for char in "verboten\n":
            assert not sink.key_event(ks.char_to_keysym(char), True)
            assert not sink.key_event(ks.char_to_keysym(char), False)
        assert not sink.key_event(ks.Shift_L, True)
        assert not sink.pointer_event(start[0] + 300, start[1] + 200, 0b111)
        sink.sync()
        time.sleep(0.3)
        assert keys_down(desktop) == []
        assert pointer(desktop) == start
        assert not cat_xterm.exists() or cat_xterm.read_text() == ""

        sink.enabled = True
        type_text(sink, "erlaubt\n")
        assert read_when_line_complete(cat_xterm) == "erlaubt\n"


def test_revoking_control_releases_held_keys_and_buttons(desktop: Desktop, cat_xterm: Path) -> None:
    with XTestInputSink(desktop.display, enabled=True) as sink:
        sink.key_event(ks.Shift_L, True)
        sink.key_event(ks.Control_L, True)
        sink.key_event(ord("x"), True)
        sink.pointer_event(700, 500, 0b001)
        sink.sync()
        assert len(keys_down(desktop)) == 3
        assert pointer(desktop)[2] & 0x100  # Button1Mask

        sink.enabled = False
        assert keys_down(desktop) == []
        assert pointer(desktop)[2] & 0x1F00 == 0
        assert not sink.key_event(ord("x"), False)  # the release was already done


def auto_repeat(desk: Desktop) -> bool:
    d = desk.connect()
    try:
        return bool(d.get_keyboard_control().global_auto_repeat)
    finally:
        d.close()


def test_a_release_delayed_past_the_repeat_delay_types_the_key_once(
    desktop: Desktop, cat_xterm: Path
) -> None:
    """A key release held up on the way (Wi-Fi) must not let the X server repeat the key."""
    assert auto_repeat(desktop)
    with XTestInputSink(desktop.display, enabled=True) as sink:
        assert not auto_repeat(desktop)
        assert sink.key_event(ord("a"), True)
        sink.sync()
        time.sleep(1.2)  # past the server's 660 ms repeat delay: the release is late
        assert sink.key_event(ord("a"), False)
        type_text(sink, "\n")
        assert read_when_line_complete(cat_xterm) == "a\n"
        sink.enabled = False
        assert auto_repeat(desktop), "the customer's own keys repeat again without control"
        sink.enabled = True
        assert not auto_repeat(desktop)
    assert auto_repeat(desktop)


def test_key_repeat_left_off_by_the_customer_stays_off(desktop: Desktop) -> None:
    d = desktop.connect()
    d.change_keyboard_control(auto_repeat_mode=0)  # X.AutoRepeatModeOff
    d.sync()
    d.close()
    try:
        with XTestInputSink(desktop.display, enabled=True):
            pass
        assert not auto_repeat(desktop)
    finally:
        d = desktop.connect()
        d.change_keyboard_control(auto_repeat_mode=1)  # X.AutoRepeatModeOn
        d.sync()
        d.close()


def test_pointer_moves_to_monitor_relative_positions(desktop: Desktop) -> None:
    with XTestInputSink(desktop.display, enabled=True) as sink:
        sink.pointer_event(123, 456, 0)
        sink.sync()
        assert pointer(desktop)[:2] == (123, 456)
        sink.origin = (640, 0)  # the agent views the right-hand monitor
        sink.pointer_event(10, 20, 0)
        sink.sync()
        assert pointer(desktop)[:2] == (650, 20)
    if shutil.which("xdotool"):  # a second opinion from another X client
        assert desktop.run("xdotool", "getmouselocation").startswith("x:650 y:20 ")


def test_button_mask_bits_become_x_buttons(desktop: Desktop) -> None:
    from Xlib import X

    d = desktop.connect()
    root = d.screen().root
    win = root.create_window(
        300, 300, 200, 200, 0, X.CopyFromParent,
        event_mask=X.ButtonPressMask | X.ButtonReleaseMask,
    )  # fmt: skip
    win.map()
    d.sync()
    wait_until(lambda: win.get_attributes().map_state == X.IsViewable, what="test window")
    seen: list[tuple[str, int]] = []
    with XTestInputSink(desktop.display, enabled=True) as sink:
        for bit in range(8):
            sink.pointer_event(400, 400, 1 << bit)
            sink.pointer_event(400, 400, 0)
        sink.pointer_event(400, 400, 0b1001)  # left button held while the wheel turns
        sink.pointer_event(400, 400, 0b0001)
        sink.release_all()
        sink.sync()
    deadline = time.monotonic() + 3
    while len(seen) < 20 and time.monotonic() < deadline:
        while d.pending_events():
            ev = d.next_event()
            if ev.type in (X.ButtonPress, X.ButtonRelease):
                seen.append(("down" if ev.type == X.ButtonPress else "up", ev.detail))
        time.sleep(0.01)
    d.close()
    expected = [(s, b) for b in range(1, 9) for s in ("down", "up")]
    expected += [("down", 1), ("down", 4), ("up", 4), ("up", 1)]
    assert seen == expected


def test_double_click_selects_and_middle_click_pastes(desktop: Desktop, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    desktop.xterm(["sh", "-c", f"echo Beratungsnummer; exec cat > '{out}'"], geometry="40x5+0+0")
    with XTestInputSink(desktop.display, enabled=True) as sink:
        for mask in (1, 0, 1, 0):  # double-click the first word on the first line
            sink.pointer_event(20, 8, mask)
        sink.sync()
        time.sleep(0.2)
        sink.pointer_event(20, 40, 0b010)  # middle click pastes PRIMARY into cat
        sink.pointer_event(20, 40, 0)
        sink.sync()
        time.sleep(0.2)
        type_text(sink, "\n")  # focus follows the pointer into the xterm
    assert read_when_line_complete(out) == "Beratungsnummer\n"
