"""The Windows clipboard: Unicode text through the documented Win32 clipboard API.

Reading: ``OpenClipboard`` → ``GetClipboardData(CF_UNICODETEXT)`` → ``GlobalLock``;
writing: ``EmptyClipboard`` → ``GlobalAlloc(GMEM_MOVEABLE)`` filled with UTF-16 →
``SetClipboardData`` (the system owns the memory afterwards). Changes are noticed by
polling ``GetClipboardSequenceNumber`` (:mod:`.polled_clipboard`), which needs no
window procedure or message loop. The clipboard is opened for a hidden message-only
window created on the worker thread: opened for no window, ``EmptyClipboard`` leaves
the clipboard without owner and ``SetClipboardData`` fails.

Imports on every platform; ``ctypes.windll`` is touched only when a clipboard is
created, which only :mod:`.backends` does, on Windows.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import time
from ctypes import wintypes
from typing import Any, Final

from supportdesk.capture.clipboard import DEFAULT_MAX_CLIPBOARD_BYTES
from supportdesk.capture.polled_clipboard import POLL_SECONDS, PolledClipboard

__all__ = ["Win32Clipboard"]

log = logging.getLogger(__name__)

CF_UNICODETEXT: Final = 13
GMEM_MOVEABLE: Final = 0x0002
HWND_MESSAGE: Final = -3
OPEN_TRIES: Final = 10
"""Another program may hold the clipboard open for a moment: try this often, 20 ms apart."""


def _libraries() -> tuple[Any, Any]:
    """``user32`` and ``kernel32`` with the prototypes used here; OSError off Windows."""
    if sys.platform != "win32":
        raise OSError("the Windows clipboard exists on Windows only")
    user32 = ctypes.WinDLL("user32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle, bool_ = wintypes.HANDLE, wintypes.BOOL
    user32_calls: tuple[tuple[str, tuple[Any, ...], Any], ...] = (
        ("OpenClipboard", (wintypes.HWND,), bool_),
        ("CloseClipboard", (), bool_),
        ("EmptyClipboard", (), bool_),
        ("GetClipboardData", (wintypes.UINT,), handle),
        ("SetClipboardData", (wintypes.UINT, handle), handle),
        ("GetClipboardSequenceNumber", (), wintypes.DWORD),
        ("IsClipboardFormatAvailable", (wintypes.UINT,), bool_),
        ("DestroyWindow", (wintypes.HWND,), bool_),
    )
    for name, args, result in user32_calls:
        function = getattr(user32, name)
        function.argtypes, function.restype = args, result
    user32.CreateWindowExW.argtypes = (
        wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD,
        ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
        wintypes.HWND, wintypes.HMENU, wintypes.HINSTANCE, wintypes.LPVOID,
    )  # fmt: skip
    user32.CreateWindowExW.restype = wintypes.HWND
    kernel32_calls: tuple[tuple[str, tuple[Any, ...], Any], ...] = (
        ("GlobalAlloc", (wintypes.UINT, ctypes.c_size_t), handle),
        ("GlobalLock", (handle,), wintypes.LPVOID),
        ("GlobalUnlock", (handle,), bool_),
        ("GlobalSize", (handle,), ctypes.c_size_t),
        ("GlobalFree", (handle,), handle),
    )
    for name, args, result in kernel32_calls:
        function = getattr(kernel32, name)
        function.argtypes, function.restype = args, result
    return user32, kernel32


class Win32Clipboard(PolledClipboard):
    """The clipboard of the customer's Windows session. Raises RuntimeError if it cannot
    be opened (not Windows, no window station)."""

    thread_name = "win32-clipboard"

    def __init__(
        self, *, max_bytes: int = DEFAULT_MAX_CLIPBOARD_BYTES, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._user32: Any = None
        self._kernel32: Any = None
        self._window: int | None = None
        super().__init__(max_bytes=max_bytes, poll_seconds=poll_seconds)

    def _open(self) -> None:
        self._user32, self._kernel32 = _libraries()
        # A message-only window of the predefined "STATIC" class: no window procedure of
        # ours, never shown, only there to own what we put on the clipboard.
        window = self._user32.CreateWindowExW(
            0, "STATIC", "supportdesk-clipboard", 0, 0, 0, 0, 0, HWND_MESSAGE, None, None, None
        )
        if not window:
            raise OSError(f"CreateWindowExW failed ({_last_error()})")
        self._window = window

    def _close(self) -> None:
        if self._window:
            self._user32.DestroyWindow(self._window)
            self._window = None

    def _change_count(self) -> int:
        return int(self._user32.GetClipboardSequenceNumber())

    def _open_clipboard(self) -> bool:
        for _ in range(OPEN_TRIES):
            if self._user32.OpenClipboard(self._window):
                return True
            time.sleep(0.02)
        log.warning("the clipboard stayed busy (error %d)", _last_error())
        return False

    def _read(self) -> str | None:
        if not self._user32.IsClipboardFormatAvailable(CF_UNICODETEXT):
            return None  # a picture or files: nothing for the agent
        if not self._open_clipboard():
            return None
        try:
            handle = self._user32.GetClipboardData(CF_UNICODETEXT)
            if not handle:
                return None
            size = int(self._kernel32.GlobalSize(handle))
            # UTF-16 takes at most twice the bytes of UTF-8 (ASCII), plus the NUL:
            # anything larger cannot fit the limit, and is not even copied out.
            if size > 2 * self.max_bytes + 2:
                log.warning("copied text of %d bytes (UTF-16) not passed on", size)
                return None
            pointer = self._kernel32.GlobalLock(handle)
            if not pointer:
                return None
            try:
                raw = ctypes.string_at(pointer, size)
            finally:
                self._kernel32.GlobalUnlock(handle)
        finally:
            self._user32.CloseClipboard()
        text = raw.decode("utf-16-le", errors="replace").split("\0", 1)[0]
        # Windows keeps CRLF; the agent's side is not Windows-only.
        text = text.replace("\r\n", "\n")
        return text if self._fits(text) else None

    def _write(self, text: str) -> bool:
        data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-16-le") + b"\0\0"
        if not self._open_clipboard():
            return False
        try:
            if not self._user32.EmptyClipboard():
                return False
            handle = self._kernel32.GlobalAlloc(GMEM_MOVEABLE, len(data))
            if not handle:
                return False
            pointer = self._kernel32.GlobalLock(handle)
            if not pointer:
                self._kernel32.GlobalFree(handle)
                return False
            ctypes.memmove(pointer, data, len(data))
            self._kernel32.GlobalUnlock(handle)
            if not self._user32.SetClipboardData(CF_UNICODETEXT, handle):
                self._kernel32.GlobalFree(handle)  # still ours when the system refused it
                return False
            return True
        finally:
            self._user32.CloseClipboard()


def _last_error() -> int:
    if sys.platform == "win32":
        return ctypes.get_last_error()
    return 0
