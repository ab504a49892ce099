"""The macOS pasteboard: the general ``NSPasteboard``'s plain text, through the
Objective-C runtime with ctypes (:mod:`.macos_frameworks`), no pyobjc.

Reading: ``[[NSPasteboard generalPasteboard] stringForType:NSPasteboardTypeString]``,
its size asked (``lengthOfBytesUsingEncoding:``) before its bytes are copied;
writing: ``clearContents`` then ``setString:forType:``. Changes are noticed by polling
``changeCount`` (:mod:`.polled_clipboard`): AppKit has no change notification for
the pasteboard. Every call runs on the worker thread inside an autorelease pool, so
the strings AppKit hands back are freed each round. No pbcopy/pbpaste processes:
they would cost a process per poll and cannot tell a change without reading.

Imports on every platform; the runtime is loaded when a clipboard is created.
"""

from __future__ import annotations

import logging
from ctypes import c_bool, c_char_p, c_long, c_ulong, c_void_p
from typing import Any

from supportdesk.capture.clipboard import DEFAULT_MAX_CLIPBOARD_BYTES
from supportdesk.capture.macos_frameworks import core_foundation, kCFStringEncodingUTF8, objc
from supportdesk.capture.polled_clipboard import POLL_SECONDS, PolledClipboard

__all__ = ["MacClipboard"]

log = logging.getLogger(__name__)

NSUTF8StringEncoding = 4


class MacClipboard(PolledClipboard):
    """The general pasteboard of the customer's login session. Raises RuntimeError if
    it cannot be opened (not macOS, no window server)."""

    thread_name = "macos-pasteboard"

    def __init__(
        self, *, max_bytes: int = DEFAULT_MAX_CLIPBOARD_BYTES, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._objc: Any = None
        self._cf: Any = None
        self._board = 0
        self._type = 0
        super().__init__(max_bytes=max_bytes, poll_seconds=poll_seconds)

    def _open(self) -> None:
        self._objc, self._cf = objc(), core_foundation()
        board_class = self._objc.cls("NSPasteboard")
        if not board_class:
            raise OSError("AppKit has no NSPasteboard")
        self._board = self._objc.send(c_void_p, board_class, "generalPasteboard") or 0
        if not self._board:
            raise OSError("no general pasteboard (no window server?)")
        # NSPasteboardTypeString is an NSString constant exported by AppKit.
        self._type = c_void_p.in_dll(self._objc.appkit, "NSPasteboardTypeString").value or 0

    def _pool(self) -> Any:
        return self._objc.lib.objc_autoreleasePoolPush()

    def _change_count(self) -> int:
        pool = self._pool()
        try:
            return int(self._objc.send(c_long, self._board, "changeCount"))
        finally:
            self._objc.lib.objc_autoreleasePoolPop(pool)

    def _read(self) -> str | None:
        pool = self._pool()
        try:
            string = self._objc.send(
                c_void_p, self._board, "stringForType:", (c_void_p, self._type)
            )
            if not string:
                return None  # a picture or files: nothing for the agent
            size = int(
                self._objc.send(
                    c_ulong, string, "lengthOfBytesUsingEncoding:", (c_ulong, NSUTF8StringEncoding)
                )
            )
            if size > self.max_bytes:  # asked before copying: memory stays bounded
                log.warning("copied text of %d bytes not passed on", size)
                return None
            raw = self._objc.send(c_char_p, string, "UTF8String")
            text = (raw or b"").decode("utf-8", errors="replace")
            return text if self._fits(text) else None
        finally:
            self._objc.lib.objc_autoreleasePoolPop(pool)

    def _write(self, text: str) -> bool:
        data = text.encode("utf-8")
        pool = self._pool()
        string = self._cf.CFStringCreateWithBytes(
            None, data, len(data), kCFStringEncodingUTF8, False
        )
        try:
            if not string:
                return False
            self._objc.send(c_long, self._board, "clearContents")
            done = self._objc.send(
                c_bool,
                self._board,
                "setString:forType:",
                (c_void_p, string),
                (c_void_p, self._type),
            )
            return bool(done)
        finally:
            if string:
                self._cf.CFRelease(string)
            self._objc.lib.objc_autoreleasePoolPop(pool)
