"""Which backend a machine gets, or why none: the pure decision, and its wiring."""

from __future__ import annotations

import sys

import pytest

from supportdesk.capture import backends
from supportdesk.capture.backends import (
    Choice,
    Platform,
    Unsupported,
    backend_for,
    choose,
)

X11_SESSION = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}
GNOME_WAYLAND = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("win32", {}, Choice(Platform.WINDOWS)),
        ("win32", GNOME_WAYLAND, Choice(Platform.WINDOWS)),  # the variables mean nothing there
        ("darwin", {}, Choice(Platform.MACOS)),
        ("linux", X11_SESSION, Choice(Platform.X11)),
        ("linux", {"DISPLAY": ":1"}, Choice(Platform.X11)),  # Xvfb, a plain startx
        ("freebsd14", {"DISPLAY": ":0"}, Choice(Platform.X11)),
        # Wayland without X: nothing to capture.
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, Choice(None, Unsupported.WAYLAND)),
        ("linux", {"XDG_SESSION_TYPE": "wayland"}, Choice(None, Unsupported.WAYLAND)),
        # Wayland with XWayland: X capture would show black or stale windows.
        ("linux", GNOME_WAYLAND, Choice(None, Unsupported.XWAYLAND)),
        (
            "linux",
            {**GNOME_WAYLAND, "XDG_SESSION_TYPE": "WAYLAND"},
            Choice(None, Unsupported.XWAYLAND),
        ),
        (
            "linux",
            {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"},  # no session type: not trusted
            Choice(None, Unsupported.XWAYLAND),
        ),
        # A Wayland compositor nested in an X11 session: the X screen is the real one.
        ("linux", {**X11_SESSION, "WAYLAND_DISPLAY": "wayland-1"}, Choice(Platform.X11)),
        ("linux", {}, Choice(None, Unsupported.NO_DISPLAY)),
        ("linux", {"DISPLAY": "", "XDG_SESSION_TYPE": "tty"}, Choice(None, Unsupported.NO_DISPLAY)),
    ],
)
def test_the_choice(platform: str, environ: dict[str, str], expected: Choice) -> None:
    assert choose(platform, environ) == expected


def test_the_factories_open_nothing_until_called() -> None:
    for platform in Platform:
        backend = backend_for(platform, display=":99")
        assert backend.platform is platform
        assert callable(backend.screen_source) and callable(backend.input_sink)


@pytest.mark.parametrize(
    ("platform", "home", "words"),
    [(Platform.WINDOWS, "win32", "Windows only"), (Platform.MACOS, "darwin", "macOS only")],
)
def test_windows_and_macos_devices_refuse_plainly_elsewhere(
    platform: Platform, home: str, words: str
) -> None:
    if sys.platform == home:
        pytest.skip(f"this is {home}: the conformance suite opens the real devices")
    with pytest.raises(OSError, match=words):
        backend_for(platform).input_sink()
    # A clipboard that cannot open is no clipboard, not a failed session.
    assert backend_for(platform).clipboard() is None


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="Wayland is a Linux/BSD matter")
def test_this_machine_reads_the_wayland_session_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in GNOME_WAYLAND.items():
        monkeypatch.setenv(name, value)
    assert backends.this_machine() == Choice(None, Unsupported.XWAYLAND)
