"""Which capture, input and clipboard backend this machine gets — or why none.

The one place that decides. :func:`choose` is pure (platform name and environment in,
a :class:`Choice` out) and says, for a desktop whose picture cannot be trusted, why
the screen must not be shared:

- Windows → :attr:`Platform.WINDOWS` (mss capture, ``SendInput``, Win32 clipboard).
- macOS → :attr:`Platform.MACOS` (mss/Quartz capture, ``CGEvent``, the pasteboard);
  its permissions are checked at run time (:mod:`.macos_permissions`).
- Linux and the BSDs with an X11 session → :attr:`Platform.X11` (mss, XTest, XFixes).
- A Wayland session → refused. Without X (``WAYLAND_DISPLAY`` and no ``DISPLAY``)
  there is nothing to capture; with XWayland (``XDG_SESSION_TYPE=wayland``, or
  ``WAYLAND_DISPLAY`` without a session type saying ``x11``) X capture sees only the X
  programs and shows the rest black or stale, and XTest reaches only X programs.
  Never a black or stale picture: the browser shares a Wayland screen through the
  desktop portal, so the program points there.
- No display at all → refused.

:func:`backend_for` gives the factories of a platform's devices; nothing is opened
until they are called (a view-only session never opens the input sink).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from supportdesk.capture.clipboard import DEFAULT_MAX_CLIPBOARD_BYTES, CustomerClipboard
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.screen_source import MssScreenSource, ScreenSource

__all__ = [
    "Backend",
    "Choice",
    "Platform",
    "Unsupported",
    "backend_for",
    "choose",
    "open_clipboard",
    "this_machine",
]

log = logging.getLogger(__name__)


class Platform(StrEnum):
    """A desktop the program has backends for."""

    X11 = "x11"
    WINDOWS = "windows"
    MACOS = "macos"


class Unsupported(StrEnum):
    """Why the screen of this machine must not be shared by the program."""

    WAYLAND = "wayland"
    """A Wayland session without X: nothing the program can capture."""
    XWAYLAND = "xwayland"
    """A Wayland session whose X is XWayland: X capture would show black or stale windows."""
    NO_DISPLAY = "no_display"
    """No graphical desktop (a text console, an SSH login)."""


@dataclass(frozen=True, slots=True)
class Choice:
    """This machine's backend, or why it has none (exactly one is set)."""

    platform: Platform | None
    unsupported: Unsupported | None = None


def choose(platform: str, environ: Mapping[str, str]) -> Choice:
    """The backend for ``sys.platform`` value ``platform`` with environment ``environ``."""
    if platform == "win32":
        return Choice(Platform.WINDOWS)
    if platform == "darwin":
        return Choice(Platform.MACOS)
    display = environ.get("DISPLAY", "")
    session = environ.get("XDG_SESSION_TYPE", "").lower()
    wayland = bool(environ.get("WAYLAND_DISPLAY")) or session == "wayland"
    if wayland and session != "x11":
        # A Wayland compositor nested in an X11 session says x11: X capture works there.
        return Choice(None, Unsupported.XWAYLAND if display else Unsupported.WAYLAND)
    if not display:
        return Choice(None, Unsupported.NO_DISPLAY)
    return Choice(Platform.X11)


def this_machine() -> Choice:
    """:func:`choose` for the running program."""
    return choose(sys.platform, os.environ)


@dataclass(frozen=True, slots=True)
class Backend:
    """Factories of one platform's devices; each opens its device when called."""

    platform: Platform
    screen_source: Callable[[], ScreenSource]
    input_sink: Callable[[], InputSink]
    clipboard: Callable[[], CustomerClipboard | None]


def backend_for(
    platform: Platform,
    *,
    display: str | None = None,
    max_clipboard: int = DEFAULT_MAX_CLIPBOARD_BYTES,
) -> Backend:
    """The device factories of ``platform``; ``display`` picks an X display (tests)."""

    def screen_source() -> ScreenSource:
        # mss everywhere: XCB/MIT-SHM on X11, GDI BitBlt on Windows, CoreGraphics on macOS.
        return MssScreenSource(display if platform is Platform.X11 else None)

    def input_sink() -> InputSink:
        if platform is Platform.WINDOWS:
            from supportdesk.capture.win32_input import Win32InputSink

            return Win32InputSink()
        if platform is Platform.MACOS:
            from supportdesk.capture.quartz_input import QuartzInputSink

            return QuartzInputSink()
        from supportdesk.capture.input_sink import XTestInputSink

        return XTestInputSink(display)

    def clipboard() -> CustomerClipboard | None:
        return open_clipboard(platform, display=display, max_bytes=max_clipboard)

    return Backend(platform, screen_source, input_sink, clipboard)


def open_clipboard(
    platform: Platform,
    *,
    display: str | None = None,
    max_bytes: int = DEFAULT_MAX_CLIPBOARD_BYTES,
) -> CustomerClipboard | None:
    """The clipboard of ``platform``, or None if it cannot be opened (logged, not
    raised: the session works without clipboard)."""
    try:
        if platform is Platform.WINDOWS:
            from supportdesk.capture.win32_clipboard import Win32Clipboard

            return Win32Clipboard(max_bytes=max_bytes)
        if platform is Platform.MACOS:
            from supportdesk.capture.macos_clipboard import MacClipboard

            return MacClipboard(max_bytes=max_bytes)
        from supportdesk.capture.clipboard import X11Clipboard

        return X11Clipboard(display, max_bytes=max_bytes)
    except (RuntimeError, OSError) as exc:
        log.warning("clipboard sharing unavailable: %s", exc)
        return None
