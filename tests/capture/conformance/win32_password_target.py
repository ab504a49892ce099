"""The Windows masking target: a native window with a password field, for UI Automation.

Tk's entries are invisible to UI Automation, so this child makes the real thing with
ctypes: a top-level window titled :data:`TITLE` (the predefined ``STATIC`` class, so no
window procedure of ours is needed) holding two Win32 ``EDIT`` controls, one with
``ES_PASSWORD`` (UI Automation's Win32 proxy reports it ``IsPassword``) and a plain one.
Per-monitor DPI aware like the program, so every rectangle is in physical pixels.

Protocol: JSON lines out, as tk_target.py: ``{"ready": {"password": [l, t, r, b],
"plain": [...], "client": [...]}}`` (screen rectangles of the two fields and of the
window's client area). It ends when its standard input closes.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
from ctypes import wintypes

TITLE = "Supportdesk Maskentest"

WS_OVERLAPPEDWINDOW = 0x00CF0000
WS_VISIBLE = 0x10000000
WS_CHILD = 0x40000000
WS_BORDER = 0x00800000
ES_PASSWORD = 0x0020
ES_AUTOHSCROLL = 0x0080


def say(**data: object) -> None:
    print(json.dumps(data), flush=True)


def main() -> None:
    assert sys.platform == "win32"
    ctypes.windll.shcore.SetProcessDpiAwareness(2)
    user32 = ctypes.WinDLL("user32", use_last_error=True)
    user32.CreateWindowExW.argtypes = (
        wintypes.DWORD,
        wintypes.LPCWSTR,
        wintypes.LPCWSTR,
        wintypes.DWORD,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        wintypes.HWND,
        wintypes.HMENU,
        wintypes.HINSTANCE,
        wintypes.LPVOID,
    )
    user32.CreateWindowExW.restype = wintypes.HWND
    user32.GetWindowRect.argtypes = (wintypes.HWND, ctypes.POINTER(wintypes.RECT))
    user32.GetClientRect.argtypes = (wintypes.HWND, ctypes.POINTER(wintypes.RECT))
    user32.ClientToScreen.argtypes = (wintypes.HWND, ctypes.POINTER(wintypes.POINT))
    user32.SetForegroundWindow.argtypes = (wintypes.HWND,)
    user32.UpdateWindow.argtypes = (wintypes.HWND,)
    user32.GetMessageW.argtypes = (
        ctypes.POINTER(wintypes.MSG),
        wintypes.HWND,
        wintypes.UINT,
        wintypes.UINT,
    )
    user32.TranslateMessage.argtypes = (ctypes.POINTER(wintypes.MSG),)
    user32.DispatchMessageW.argtypes = (ctypes.POINTER(wintypes.MSG),)

    def create(
        cls: str, text: str, style: int, x: int, y: int, w: int, h: int, parent: int | None
    ) -> int:
        hwnd = user32.CreateWindowExW(0, cls, text, style, x, y, w, h, parent, None, None, None)
        if not hwnd:
            raise OSError(f"CreateWindowExW({cls}) failed: {ctypes.get_last_error()}")
        return int(hwnd)

    window = create("STATIC", TITLE, WS_OVERLAPPEDWINDOW | WS_VISIBLE, 120, 120, 520, 260, None)
    style = WS_CHILD | WS_VISIBLE | WS_BORDER | ES_AUTOHSCROLL
    password = create("EDIT", "", style | ES_PASSWORD, 40, 40, 300, 28, window)
    plain = create("EDIT", "", style, 40, 110, 300, 28, window)
    user32.UpdateWindow(window)
    user32.SetForegroundWindow(window)

    def screen(hwnd: int) -> list[int]:
        r = wintypes.RECT()
        user32.GetWindowRect(hwnd, ctypes.byref(r))
        return [r.left, r.top, r.right, r.bottom]

    r = wintypes.RECT()
    user32.GetClientRect(window, ctypes.byref(r))
    corner = wintypes.POINT(0, 0)
    user32.ClientToScreen(window, ctypes.byref(corner))
    client = [corner.x, corner.y, corner.x + r.right, corner.y + r.bottom]

    def until_stdin_closes() -> None:
        for _ in sys.stdin:
            pass
        os._exit(0)  # the STATIC window never posts WM_QUIT; the test is done with us

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    say(ready={"password": screen(password), "plain": screen(plain), "client": client})
    msg = wintypes.MSG()
    while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
        user32.TranslateMessage(ctypes.byref(msg))
        user32.DispatchMessageW(ctypes.byref(msg))


if __name__ == "__main__":
    main()
