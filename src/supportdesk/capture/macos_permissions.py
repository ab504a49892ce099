"""The two macOS permissions the program needs, checked before anything is shared.

- **Screen Recording** (macOS 10.15+): without it capture does not fail, it shows the
  wallpaper and the menu bar without any window — a picture the agent would take for
  the customer's screen. ``CGPreflightScreenCaptureAccess`` says whether it is granted;
  ``CGRequestScreenCaptureAccess`` asks the system to put the program in the list of
  Systemeinstellungen → Datenschutz & Sicherheit → Bildschirmaufnahme (and shows the
  system's own question once). A grant takes effect only after the program restarts.
- **Accessibility** (for the agent's input): without it posted events vanish
  silently. ``AXIsProcessTrustedWithOptions`` with ``kAXTrustedCheckOptionPrompt``
  asks the system to list the program under Bedienungshilfen.

macOS grants these to the *responsible* program: a ``.app`` bundle, or for a plain
executable the terminal it was started from. :func:`responsible_app` names the entry
the customer has to switch on. The words the customer reads are in
``applet/platform_notice.py``. Imports on every platform; asks only on macOS.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from supportdesk.capture.macos_frameworks import (
    application_services,
    core_foundation,
    core_graphics,
)

__all__ = [
    "MacPermissions",
    "accessibility_granted",
    "check_permissions",
    "responsible_app",
    "screen_recording_granted",
]

_TERMINALS = {"Apple_Terminal": "Terminal", "iTerm.app": "iTerm", "vscode": "Visual Studio Code"}


@dataclass(frozen=True, slots=True)
class MacPermissions:
    """What macOS allows this program now."""

    screen_recording: bool
    accessibility: bool


def responsible_app(executable: str, environ: Mapping[str, str]) -> str:
    """The name the program has in the privacy lists: its ``.app`` bundle, else the
    terminal it runs in (``TERM_PROGRAM``), else the executable's file name."""
    parts = PurePosixPath(executable).parts
    for part in reversed(parts):
        if part.endswith(".app"):
            return part[: -len(".app")]
    terminal = environ.get("TERM_PROGRAM", "")
    if terminal:
        return _TERMINALS.get(terminal, terminal)
    return parts[-1] if parts else "Terminal"


def screen_recording_granted(*, request: bool = False) -> bool:
    """Whether capture would show windows; ``request``: when not, have the system list
    the program under Bildschirmaufnahme (and ask the customer once)."""
    cg = core_graphics()
    if not hasattr(cg, "CGPreflightScreenCaptureAccess"):
        return True  # before macOS 10.15 there is no such permission
    if cg.CGPreflightScreenCaptureAccess():
        return True
    if request:
        cg.CGRequestScreenCaptureAccess()
    return False


def accessibility_granted(*, prompt: bool = False) -> bool:
    """Whether posted input events arrive; ``prompt``: when not, have the system list
    the program under Bedienungshilfen and say so."""
    ax = application_services()
    if not prompt:
        return bool(ax.AXIsProcessTrusted())
    cf = core_foundation()
    key = ctypes.c_void_p.in_dll(ax, "kAXTrustedCheckOptionPrompt")
    true = ctypes.c_void_p.in_dll(cf, "kCFBooleanTrue")
    key_callbacks = ctypes.addressof(ctypes.c_void_p.in_dll(cf, "kCFTypeDictionaryKeyCallBacks"))
    value_callbacks = ctypes.addressof(
        ctypes.c_void_p.in_dll(cf, "kCFTypeDictionaryValueCallBacks")
    )
    keys = (ctypes.c_void_p * 1)(key.value)
    values = (ctypes.c_void_p * 1)(true.value)
    options = cf.CFDictionaryCreate(None, keys, values, 1, key_callbacks, value_callbacks)
    try:
        return bool(ax.AXIsProcessTrustedWithOptions(options))
    finally:
        if options:
            cf.CFRelease(options)


def check_permissions(*, ask: bool = False) -> MacPermissions:
    """Both permissions; ``ask``: have the system list the program where one is missing."""
    return MacPermissions(
        screen_recording=screen_recording_granted(request=ask),
        accessibility=accessibility_granted(prompt=ask),
    )
