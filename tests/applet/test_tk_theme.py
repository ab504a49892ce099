"""The program's look: the pure choices of tk/theme.py, and every window built for real on
Xvfb (at the usual ~100 dpi and at 192 dpi) from tk_look_child.py: themed widgets only,
the native theme, Tk scaled to the screen's DPI, nothing cut off, the first window's
keyboard order and fixed message lines."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from supportdesk.applet.tk.theme import (
    PER_MONITOR_AWARE,
    fitting_lines,
    make_dpi_aware,
    pt,
    scaled_size,
    scaling_for,
    theme_for,
)
from tests.applet.test_tk_windows import ROOT
from tests.desktop import xvfb

WINDOWS_THEMES = ("winnative", "clam", "alt", "default", "classic", "vista", "xpnative")
MAC_THEMES = ("aqua", "clam", "alt", "default", "classic")
X11_THEMES = ("clam", "alt", "default", "classic")


def test_the_theme_is_the_systems_own() -> None:
    assert theme_for("win32", WINDOWS_THEMES) == "vista"
    assert theme_for("win32", ("winnative", "clam", "default")) == "winnative"  # before Vista
    assert theme_for("darwin", MAC_THEMES) == "aqua"
    assert theme_for("linux", X11_THEMES) == "clam"
    assert theme_for("freebsd14", X11_THEMES) == "clam"
    assert theme_for("linux", ("default", "classic")) == "default"  # a Tk without clam


def test_tk_scaling_follows_the_screens_dpi_within_sane_bounds() -> None:
    assert scaling_for(72) == 1.0  # macOS: points are pixels, the system does Retina
    assert scaling_for(96) == pytest.approx(4 / 3)  # Windows at 100 %
    assert scaling_for(144) == pytest.approx(2.0)  # Windows at 150 %
    assert scaling_for(192) == pytest.approx(8 / 3)  # 200 %
    assert scaling_for(40) == 1.0  # a screen reporting nonsense gets no tiny text
    assert scaling_for(1000) == 4.0


def test_font_sizes_scale_and_keep_tks_sign() -> None:
    assert scaled_size(10, 1.6) == 16  # points
    assert scaled_size(-12, 1.5) == -18  # pixels stay pixels
    assert scaled_size(9, 1.1) == 10
    assert scaled_size(1, 0.1) == 1


def test_sizes_are_points() -> None:
    assert pt(12) == "12p"
    assert pt(4.5) == "4.5p"


def test_the_report_box_keeps_the_buttons_on_the_screen() -> None:
    assert fitting_lines(24, 1080, 17, 0.55) == 24
    assert fitting_lines(24, 1080, 32, 0.55) == 18  # 1080 px at 200 %
    assert fitting_lines(24, 300, 32, 0.55) == 5  # always some lines


class Win32:
    """Stand-ins for ``ctypes.windll``'s two libraries, recording the calls made:
    Windows itself does not run here."""

    def __init__(self, *, shcore: bool = True, shcore_fails: bool = False) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []
        if shcore:
            self.shcore = SimpleNamespace(SetProcessDpiAwareness=self._awareness(shcore_fails))
        self.user32 = SimpleNamespace(SetProcessDPIAware=lambda: self.calls.append(("user32", ())))

    def _awareness(self, fails: bool) -> Any:
        def call(level: int) -> int:
            if fails:
                raise OSError("[WinError 127] The specified procedure could not be found")
            self.calls.append(("shcore", (level,)))
            return 0

        return call


def test_windows_is_told_the_process_draws_per_monitor() -> None:
    dll = Win32()
    assert make_dpi_aware("win32", dll) == "SetProcessDpiAwareness"
    assert dll.calls == [("shcore", (PER_MONITOR_AWARE,))]
    assert PER_MONITOR_AWARE == 2


def test_older_windows_falls_back_to_set_process_dpi_aware() -> None:
    for dll in (Win32(shcore=False), Win32(shcore_fails=True)):  # Vista/7: no shcore
        assert make_dpi_aware("win32", dll) == "SetProcessDPIAware"
        assert dll.calls == [("user32", ())]


def test_elsewhere_dpi_awareness_is_left_alone() -> None:
    dll = Win32()
    assert make_dpi_aware("linux", dll) is None
    assert make_dpi_aware("darwin", dll) is None
    assert dll.calls == []
    assert make_dpi_aware() is None  # here, for real: not Windows, nothing called


# -- the windows for real -----------------------------------------------------------

THEMED = {"TFrame", "TLabel", "TEntry", "TButton", "TCheckbutton", "TScrollbar"}
ALLOWED = THEMED | {"Text"}  # ttk has no text box: the report keeps tk.Text


def made_up(dpi: int | None) -> dict[str, Any]:
    """Every window's make-up as tk_look_child.py reads it, on Xvfb at ``dpi``."""
    args = ["-dpi", str(dpi)] if dpi else []
    # Large enough that the report box keeps its 24 lines at 192 dpi too.
    with xvfb(2560, 1600, extra_args=args) as desk:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.applet.tk_look_child"],
            cwd=ROOT, env=desk.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def windows(shown: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name in ("join", "consent", "active", "lost", "notice"):
        yield name, shown[name]
    yield "consent switched", shown["consent"]["switched"]
    for name, dialog in shown["dialogs"].items():
        yield name, dialog


@pytest.fixture(scope="module")
def normal() -> dict[str, Any]:
    return made_up(None)


@pytest.fixture(scope="module")
def high_dpi() -> dict[str, Any]:
    return made_up(192)


@pytest.mark.desktop
def test_every_window_uses_themed_widgets_in_the_native_theme(normal: dict[str, Any]) -> None:
    for name, window in windows(normal):
        assert set(window["classes"]) <= ALLOWED, name
        assert window["theme"] == "clam", name  # X11's choice (theme_for above)
        assert window["cut_off"] == [], name
    assert "TEntry" in normal["join"]["classes"]
    assert "TCheckbutton" in normal["consent"]["classes"]
    assert {"Text", "TScrollbar"} <= set(normal["dialogs"]["report"]["classes"])
    assert normal["consent"]["view_box"] == ["disabled", "selected"]  # locked, ticked
    assert normal["active"]["topmost"] is True


@pytest.mark.desktop
def test_the_first_window_keeps_its_keyboard_order_and_message_lines(
    normal: dict[str, Any],
) -> None:
    join = normal["join"]
    fields = join["fields"]
    assert join["focus_at_start"] == fields["name"]
    assert join["tab_order"] == [fields["name"], fields["key"], fields["button"]]
    assert join["message_lines"] == 2  # the refusal: two lines in German …
    assert join["button_y"][0] == join["button_y"][1]  # … and the button did not move
    assert join["error_colour"] == "#a00000"
    assert join["button_disabled_after_refusal"] is False


@pytest.mark.desktop
def test_on_a_high_dpi_screen_tk_is_scaled_and_the_layout_grows_with_it(
    normal: dict[str, Any], high_dpi: dict[str, Any]
) -> None:
    low, high = normal["join"], high_dpi["join"]
    assert high["dpi"] == pytest.approx(192, abs=1)
    for join in (low, high):
        assert join["scaling"] == pytest.approx(join["dpi"] / 72, rel=0.01)
    grown = high["dpi"] / low["dpi"]
    # Fonts, wrap widths and paddings are all in points: they grow with the DPI …
    assert high["linespace"] / low["linespace"] == pytest.approx(grown, rel=0.1)
    assert high["wrap_pixels"] / low["wrap_pixels"] == pytest.approx(grown, rel=0.1)
    # Tk's own theme draws scroll bars in pixels: they are told the scaled size.
    bars = [shown["dialogs"]["report"]["scrollbar_width"] for shown in (normal, high_dpi)]
    assert bars[1] / bars[0] == pytest.approx(grown, rel=0.15)
    # … so every window keeps its proportions instead of wrapping into a tall strip.
    for (name, small), (_, large) in zip(windows(normal), windows(high_dpi), strict=True):
        width, height = (b / a for a, b in zip(small["size"], large["size"], strict=True))
        assert width == pytest.approx(grown, rel=0.15), name
        assert height == pytest.approx(grown, rel=0.15), name
        assert large["cut_off"] == [], name
        assert set(large["classes"]) <= ALLOWED, name
