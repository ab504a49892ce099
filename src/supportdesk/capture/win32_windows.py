"""The visible top-level windows of a Windows desktop, for the bank's window rules.

``EnumWindows`` walks the top-level windows in z-order; a window counts if it is
visible, not minimised and not cloaked (a window on another virtual desktop, or a
suspended Store app, is "visible" but not shown). Each is reported with its title
(``GetWindowTextW``), its process's image name (``GetWindowThreadProcessId``,
``QueryFullProcessImageNameW``; both "SecureGo.exe" and "SecureGo", so a rule may name
either) and its rectangle from ``DwmGetWindowAttribute(DWMWA_EXTENDED_FRAME_BOUNDS)``:
the frame as drawn, in physical pixels whatever the DPI awareness (``GetWindowRect``
would add the invisible resize borders of Windows 10 and 11), falling back to
``GetWindowRect`` where the DWM does not answer. The process is per-monitor DPI aware
(as mss and the input sink make it), so these are the pixels mss captures.

Imports everywhere; :class:`Win32WindowLister` opens on Windows only.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes
from typing import Any

from supportdesk.capture.mask_sources import DesktopWindow
from supportdesk.rfb.geometry import Rect

__all__ = ["Win32WindowLister", "application_names", "frame_rect"]

_DWMWA_EXTENDED_FRAME_BOUNDS = 9
_DWMWA_CLOAKED = 14
_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_MAX_TITLE = 512


def application_names(image_path: str) -> tuple[str, ...]:
    """The names a rule's ``application`` may use for a process: its image's file name
    with and without ``.exe`` (``C:\\…\\SecureGo.exe`` → ``SecureGo.exe``, ``SecureGo``)."""
    name = image_path.replace("/", "\\").rsplit("\\", 1)[-1]
    if not name:
        return ()
    stem = name[:-4] if name.lower().endswith(".exe") else name
    return (name, stem) if stem != name and stem else (name,)


def frame_rect(left: int, top: int, right: int, bottom: int) -> Rect | None:
    """A window's rectangle from a Win32 ``RECT``, None if it has no area."""
    if right <= left or bottom <= top:
        return None
    return Rect(left, top, right - left, bottom - top)


class Win32WindowLister:
    """Lists the shown top-level windows (call it from any one thread at a time)."""

    _user32: Any
    _kernel32: Any
    _dwmapi: Any
    _enum_proc: Any
    _names: dict[int, tuple[str, ...]]

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise OSError("the Win32 window list exists on Windows only")
        from supportdesk.capture.win32_input import make_dpi_aware

        make_dpi_aware()
        self._user32 = ctypes.WinDLL("user32", use_last_error=True)
        self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        self._dwmapi = ctypes.WinDLL("dwmapi")
        u, k, d = self._user32, self._kernel32, self._dwmapi
        self._enum_proc = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)
        u.EnumWindows.argtypes = (self._enum_proc, wintypes.LPARAM)
        u.EnumWindows.restype = wintypes.BOOL
        for name in ("IsWindowVisible", "IsIconic"):
            getattr(u, name).argtypes = (wintypes.HWND,)
            getattr(u, name).restype = wintypes.BOOL
        u.GetWindowTextW.argtypes = (wintypes.HWND, wintypes.LPWSTR, ctypes.c_int)
        u.GetWindowTextW.restype = ctypes.c_int
        u.GetWindowRect.argtypes = (wintypes.HWND, ctypes.POINTER(wintypes.RECT))
        u.GetWindowRect.restype = wintypes.BOOL
        u.GetWindowThreadProcessId.argtypes = (wintypes.HWND, ctypes.POINTER(wintypes.DWORD))
        u.GetWindowThreadProcessId.restype = wintypes.DWORD
        k.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
        k.OpenProcess.restype = wintypes.HANDLE
        k.QueryFullProcessImageNameW.argtypes = (
            wintypes.HANDLE,
            wintypes.DWORD,
            wintypes.LPWSTR,
            ctypes.POINTER(wintypes.DWORD),
        )
        k.QueryFullProcessImageNameW.restype = wintypes.BOOL
        k.CloseHandle.argtypes = (wintypes.HANDLE,)
        k.CloseHandle.restype = wintypes.BOOL
        d.DwmGetWindowAttribute.argtypes = (
            wintypes.HWND,
            wintypes.DWORD,
            ctypes.c_void_p,
            wintypes.DWORD,
        )
        d.DwmGetWindowAttribute.restype = ctypes.c_long
        self._names = {}  # pid -> names, for one listing

    def __call__(self) -> list[DesktopWindow]:
        """The shown top-level windows with a title or a process name, front to back."""
        handles: list[int] = []

        def collect(hwnd: int, _: int) -> bool:
            handles.append(hwnd)
            return True

        if not self._user32.EnumWindows(self._enum_proc(collect), 0):
            raise OSError("EnumWindows failed")
        self._names = {}
        out: list[DesktopWindow] = []
        for hwnd in handles:
            window = self._describe(hwnd)
            if window is not None:
                out.append(window)
        return out

    def _describe(self, hwnd: int) -> DesktopWindow | None:
        u = self._user32
        if not u.IsWindowVisible(hwnd) or u.IsIconic(hwnd) or self._cloaked(hwnd):
            return None
        rect = self._rect(hwnd)
        if rect is None:
            return None
        buffer = ctypes.create_unicode_buffer(_MAX_TITLE)
        u.GetWindowTextW(hwnd, buffer, _MAX_TITLE)
        pid = wintypes.DWORD()
        u.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        names = self._process_names(pid.value)
        if not buffer.value and not names:
            return None
        return DesktopWindow(buffer.value, names, rect)

    def _cloaked(self, hwnd: int) -> bool:
        cloaked = wintypes.DWORD()
        hr = self._dwmapi.DwmGetWindowAttribute(
            hwnd, _DWMWA_CLOAKED, ctypes.byref(cloaked), ctypes.sizeof(cloaked)
        )
        return hr == 0 and cloaked.value != 0

    def _rect(self, hwnd: int) -> Rect | None:
        r = wintypes.RECT()
        hr = self._dwmapi.DwmGetWindowAttribute(
            hwnd, _DWMWA_EXTENDED_FRAME_BOUNDS, ctypes.byref(r), ctypes.sizeof(r)
        )
        if hr != 0 and not self._user32.GetWindowRect(hwnd, ctypes.byref(r)):
            return None
        return frame_rect(r.left, r.top, r.right, r.bottom)

    def _process_names(self, pid: int) -> tuple[str, ...]:
        if pid in self._names:
            return self._names[pid]
        names: tuple[str, ...] = ()
        k = self._kernel32
        handle = k.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if handle:
            try:
                size = wintypes.DWORD(1024)
                buffer = ctypes.create_unicode_buffer(size.value)
                if k.QueryFullProcessImageNameW(handle, 0, buffer, ctypes.byref(size)):
                    names = application_names(buffer.value)
            finally:
                k.CloseHandle(handle)
        self._names[pid] = names
        return names
