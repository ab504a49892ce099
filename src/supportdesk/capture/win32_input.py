"""The Windows input sink: the agent's RFB keys and pointer through ``SendInput``.

Written against the documented Win32 API (``user32``) with ctypes, so nothing beyond
Python is needed. Keys follow :mod:`.win32_keys` (virtual keys for what the layout of
the foreground window's thread has, ``KEYEVENTF_UNICODE`` for everything else); the
pointer goes as ``MOUSEEVENTF_ABSOLUTE | MOUSEEVENTF_VIRTUALDESK`` scaled to 0..65535
over the virtual screen, buttons and wheel notches from :mod:`.rfb_pointer`.

Like :class:`~.input_sink.XTestInputSink` the sink starts disabled, drops events while
disabled, and releases every key and button it holds when disabled, on
:meth:`Win32InputSink.release_all` and on :meth:`Win32InputSink.close`.

What Windows does not let a user-mode program do, and what happens then:

- Ctrl+Alt+Del (the console's button) is the secure attention sequence: it is refused
  here (:attr:`Win32InputSink.refused` becomes ``"ctrl_alt_del"``), never half sent.
- Input into a program running as administrator, and the UAC prompt's secure desktop,
  is blocked by Windows (UIPI): ``SendInput`` reports fewer events sent, which is
  logged and the event counted as dropped.

This module imports on every platform; ``ctypes.windll`` is touched only when a sink
is created, which only :mod:`.backends` does, on Windows.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Sequence
from ctypes import wintypes
from typing import Any, Final

from supportdesk.capture.rfb_pointer import Button, ButtonChange, held_buttons, mask_changes
from supportdesk.capture.sink_gate import SinkGate
from supportdesk.capture.win32_keys import KeyInput, KeyStroke, is_ctrl_alt_del, plan_key

__all__ = ["CTRL_ALT_DEL", "Win32InputSink", "absolute_position", "button_flags"]

log = logging.getLogger(__name__)

CTRL_ALT_DEL: Final = "ctrl_alt_del"
""":attr:`Win32InputSink.refused` after the agent sent Ctrl+Alt+Del."""

INPUT_MOUSE: Final = 0
INPUT_KEYBOARD: Final = 1
MOUSEEVENTF_MOVE: Final = 0x0001
MOUSEEVENTF_LEFTDOWN: Final = 0x0002
MOUSEEVENTF_LEFTUP: Final = 0x0004
MOUSEEVENTF_RIGHTDOWN: Final = 0x0008
MOUSEEVENTF_RIGHTUP: Final = 0x0010
MOUSEEVENTF_MIDDLEDOWN: Final = 0x0020
MOUSEEVENTF_MIDDLEUP: Final = 0x0040
MOUSEEVENTF_XDOWN: Final = 0x0080
MOUSEEVENTF_XUP: Final = 0x0100
MOUSEEVENTF_WHEEL: Final = 0x0800
MOUSEEVENTF_HWHEEL: Final = 0x1000
MOUSEEVENTF_VIRTUALDESK: Final = 0x4000
MOUSEEVENTF_ABSOLUTE: Final = 0x8000
WHEEL_DELTA: Final = 120
XBUTTON1: Final = 0x0001
SM_XVIRTUALSCREEN, SM_YVIRTUALSCREEN, SM_CXVIRTUALSCREEN, SM_CYVIRTUALSCREEN = 76, 77, 78, 79
MAPVK_VK_TO_VSC: Final = 0
VK_CAPITAL: Final = 0x14

# (flags when pressed, flags when released, mouseData)
_BUTTON_FLAGS: Final[dict[Button, tuple[int, int, int]]] = {
    Button.LEFT: (MOUSEEVENTF_LEFTDOWN, MOUSEEVENTF_LEFTUP, 0),
    Button.MIDDLE: (MOUSEEVENTF_MIDDLEDOWN, MOUSEEVENTF_MIDDLEUP, 0),
    Button.RIGHT: (MOUSEEVENTF_RIGHTDOWN, MOUSEEVENTF_RIGHTUP, 0),
    Button.BACK: (MOUSEEVENTF_XDOWN, MOUSEEVENTF_XUP, XBUTTON1),
}


def absolute_position(x: int, y: int, virtual: tuple[int, int, int, int]) -> tuple[int, int]:
    """Desktop pixel ``(x, y)`` as ``MOUSEEVENTF_ABSOLUTE | VIRTUALDESK`` coordinates:
    0..65535 across ``virtual`` = (left, top, width, height), clamped to it."""
    left, top, width, height = virtual

    def scale(value: int, start: int, size: int) -> int:
        span = max(size - 1, 1)
        return max(0, min(65535, round((value - start) * 65535 / span)))

    return scale(x, left, width), scale(y, top, height)


def button_flags(change: ButtonChange) -> tuple[int, int]:
    """``(dwFlags, mouseData)`` of a ``MOUSEINPUT`` pressing or releasing a button."""
    down, up, data = _BUTTON_FLAGS[change.button]
    return (down if change.down else up), data


# -- the Win32 structures (WinUser.h) ---------------------------------------------------


class MOUSEINPUT(ctypes.Structure):
    _fields_ = (
        ("dx", wintypes.LONG),
        ("dy", wintypes.LONG),
        ("mouseData", wintypes.DWORD),
        ("dwFlags", wintypes.DWORD),
        ("time", wintypes.DWORD),
        ("dwExtraInfo", ctypes.c_size_t),  # ULONG_PTR
    )


class KEYBDINPUT(ctypes.Structure):
    _fields_ = (
        ("wVk", wintypes.WORD),
        ("wScan", wintypes.WORD),
        ("dwFlags", wintypes.DWORD),
        ("time", wintypes.DWORD),
        ("dwExtraInfo", ctypes.c_size_t),
    )


class HARDWAREINPUT(ctypes.Structure):
    _fields_ = (("uMsg", wintypes.DWORD), ("wParamL", wintypes.WORD), ("wParamH", wintypes.WORD))


class _INPUTUNION(ctypes.Union):
    _fields_ = (("mi", MOUSEINPUT), ("ki", KEYBDINPUT), ("hi", HARDWAREINPUT))


class INPUT(ctypes.Structure):
    _fields_ = (("type", wintypes.DWORD), ("u", _INPUTUNION))


def _user32() -> Any:
    """``user32.dll`` with the prototypes used here; OSError off Windows."""
    if sys.platform != "win32":
        raise OSError("the Windows input backend runs on Windows only")
    user32 = ctypes.WinDLL("user32", use_last_error=True)
    user32.SendInput.argtypes = (wintypes.UINT, ctypes.POINTER(INPUT), ctypes.c_int)
    user32.SendInput.restype = wintypes.UINT
    user32.VkKeyScanExW.argtypes = (wintypes.WCHAR, wintypes.HKL)
    user32.VkKeyScanExW.restype = ctypes.c_short
    user32.MapVirtualKeyExW.argtypes = (wintypes.UINT, wintypes.UINT, wintypes.HKL)
    user32.MapVirtualKeyExW.restype = wintypes.UINT
    user32.GetForegroundWindow.argtypes = ()
    user32.GetForegroundWindow.restype = wintypes.HWND
    user32.GetWindowThreadProcessId.argtypes = (wintypes.HWND, ctypes.POINTER(wintypes.DWORD))
    user32.GetWindowThreadProcessId.restype = wintypes.DWORD
    user32.GetKeyboardLayout.argtypes = (wintypes.DWORD,)
    user32.GetKeyboardLayout.restype = wintypes.HKL
    user32.GetKeyState.argtypes = (ctypes.c_int,)
    user32.GetKeyState.restype = ctypes.c_short
    user32.GetSystemMetrics.argtypes = (ctypes.c_int,)
    user32.GetSystemMetrics.restype = ctypes.c_int
    return user32


def make_dpi_aware() -> None:
    """Per-monitor DPI awareness, so coordinates are physical pixels as mss captures them
    (mss asks for the same; whoever comes first wins, and both want this)."""
    if sys.platform != "win32":
        return
    try:
        ctypes.windll.shcore.SetProcessDpiAwareness(2)  # PROCESS_PER_MONITOR_DPI_AWARE
    except (AttributeError, OSError):  # before Windows 8.1
        ctypes.windll.user32.SetProcessDPIAware()


class _ForegroundLayout:
    """The keyboard layout of the foreground window's thread (what the customer sees
    typing into), read once per key press because the customer may switch it."""

    def __init__(self, user32: Any) -> None:
        self._user32 = user32
        thread = user32.GetWindowThreadProcessId(user32.GetForegroundWindow(), None)
        self._hkl = user32.GetKeyboardLayout(thread)

    def char_key(self, char: str) -> tuple[int, int] | None:
        if len(char.encode("utf-16-le")) != 2:
            return None  # beyond the BMP: no layout has a key for it
        result = int(self._user32.VkKeyScanExW(char, self._hkl))
        if result == -1:
            return None
        return result & 0xFF, (result >> 8) & 0xFF

    def scan_code(self, vk: int) -> int:
        return int(self._user32.MapVirtualKeyExW(vk, MAPVK_VK_TO_VSC, self._hkl)) & 0xFFFF


class Win32InputSink(SinkGate):
    """Inject RFB input into the Windows desktop of the customer's session.

    ``origin`` is the top-left corner, in virtual-screen pixels, of the monitor being
    shared (RFB positions are relative to it); by default the virtual screen's own
    corner, which is monitor 0 ("all screens"). :attr:`refused` names the last thing
    Windows does not let a program do (:data:`CTRL_ALT_DEL`), for the program to say.
    """

    def __init__(self, *, origin: tuple[int, int] | None = None, enabled: bool = False) -> None:
        self._user32 = _user32()
        make_dpi_aware()
        super().__init__(enabled)
        self.origin = origin if origin is not None else self.virtual_screen()[:2]
        self._pressed: dict[int, tuple[KeyInput, ...]] = {}  # keysym -> its release records
        self._mask = 0
        self.refused: str | None = None

    def virtual_screen(self) -> tuple[int, int, int, int]:
        """(left, top, width, height) of the virtual screen, all monitors together."""
        metric = self._user32.GetSystemMetrics
        return (
            int(metric(SM_XVIRTUALSCREEN)),
            int(metric(SM_YVIRTUALSCREEN)),
            int(metric(SM_CXVIRTUALSCREEN)),
            int(metric(SM_CYVIRTUALSCREEN)),
        )

    def key_event(self, keysym: int, down: bool) -> bool:
        """Press or release ``keysym``; False if dropped (disabled, unknown, refused)."""
        with self._lock:
            if not self._enabled or self._closed:
                return False
            if not down:
                up = self._pressed.pop(keysym, None)
                return up is not None and self._send_keys(up)
            if keysym in self._pressed:  # the viewer's auto-repeat: release first
                self._send_keys(self._pressed.pop(keysym))
            if is_ctrl_alt_del(keysym, list(self._pressed)):
                self.refused = CTRL_ALT_DEL
                log.info("Ctrl+Alt+Del refused: a program cannot send it on Windows")
                return False
            caps = bool(self._user32.GetKeyState(VK_CAPITAL) & 1)
            stroke: KeyStroke | None = plan_key(
                keysym, list(self._pressed), _ForegroundLayout(self._user32), caps_lock=caps
            )
            if stroke is None:
                log.debug("keysym 0x%x has no Windows key; dropped", keysym)
                return False
            self._pressed[keysym] = stroke.up
            return self._send_keys(stroke.down)

    def pointer_event(self, x: int, y: int, button_mask: int) -> bool:
        """Move to ``(x, y)`` relative to :attr:`origin`, then press/release the buttons
        and turn the wheel as the mask changed. False if disabled."""
        with self._lock:
            if not self._enabled or self._closed:
                return False
            virtual = self.virtual_screen()
            dx, dy = absolute_position(self.origin[0] + x, self.origin[1] + y, virtual)
            moved = MOUSEEVENTF_MOVE | MOUSEEVENTF_ABSOLUTE | MOUSEEVENTF_VIRTUALDESK
            records = [(dx, dy, 0, moved)]
            for change in mask_changes(self._mask, button_mask):
                if isinstance(change, ButtonChange):
                    flags, data = button_flags(change)
                    records.append((0, 0, data, flags))
                elif change.dy:
                    records.append((0, 0, change.dy * WHEEL_DELTA, MOUSEEVENTF_WHEEL))
                else:
                    records.append((0, 0, change.dx * WHEEL_DELTA, MOUSEEVENTF_HWHEEL))
            self._mask = button_mask & 0xFF
            return self._send_mouse(records)

    def _release_all(self) -> None:
        for up in reversed(list(self._pressed.values())):
            self._send_keys(up)
        self._pressed.clear()
        records = []
        for button in held_buttons(self._mask):
            flags, data = button_flags(ButtonChange(button, False))
            records.append((0, 0, data, flags))
        self._mask = 0
        if records:
            self._send_mouse(records)

    # -- SendInput ----------------------------------------------------------------------

    def _send_keys(self, keys: Sequence[KeyInput]) -> bool:
        inputs = (INPUT * len(keys))()
        for record, key in zip(inputs, keys, strict=True):
            record.type = INPUT_KEYBOARD
            record.u.ki = KEYBDINPUT(key.vk, key.scan, key.flags, 0, 0)
        return self._send(inputs)

    def _send_mouse(self, records: Sequence[tuple[int, int, int, int]]) -> bool:
        inputs = (INPUT * len(records))()
        for record, (dx, dy, data, flags) in zip(inputs, records, strict=True):
            record.type = INPUT_MOUSE
            # mouseData is a DWORD holding a signed wheel delta.
            record.u.mi = MOUSEINPUT(dx, dy, data & 0xFFFFFFFF, flags, 0, 0)
        return self._send(inputs)

    def _send(self, inputs: Any) -> bool:
        count = len(inputs)
        if count == 0:
            return True
        sent = int(self._user32.SendInput(count, inputs, ctypes.sizeof(INPUT)))
        if sent != count:
            # UIPI: the foreground program runs elevated, or the secure desktop is up.
            log.warning("SendInput sent %d of %d events (error %d)", sent, count, _last_error())
            return False
        return True


def _last_error() -> int:
    """``GetLastError`` of the last call made through this module's ``WinDLL``."""
    if sys.platform == "win32":
        return ctypes.get_last_error()
    return 0
