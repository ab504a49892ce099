"""The pseudo-rectangles waiting for a client's next FramebufferUpdate: size and cursor.

A new desktop size (ours, or the answer to the client's SetDesktopSize) and a new
cursor shape are told in the next update, in front of the pixels, and only in the
forms the client announced (:class:`~supportdesk.rfb.encodings.pseudo.EncodingPreferences`).
Pure bookkeeping for :class:`~supportdesk.rfb.server.RFBServerConnection`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .encodings.pseudo import (
    DesktopSizeReason,
    DesktopSizeStatus,
    EncodingPreferences,
    encode_cursor_rect,
    encode_desktop_size_rect,
    encode_extended_desktop_size_rect,
)
from .messages import Screen
from .pixel_format import PixelFormat

__all__ = ["PseudoRects"]


@dataclass(frozen=True, slots=True)
class _SizeNotice:
    reason: DesktopSizeReason
    status: DesktopSizeStatus
    size_changed: bool


@dataclass(frozen=True, slots=True)
class _Cursor:
    hotspot_x: int
    hotspot_y: int
    rgba: npt.NDArray[np.uint8]


class PseudoRects:
    """Size notices and the latest cursor shape, until the next update takes them."""

    def __init__(self) -> None:
        self._size_notices: list[_SizeNotice] = []
        self._cursor: _Cursor | None = None

    def resized(self, reason: DesktopSizeReason) -> None:
        """The framebuffer has a new size."""
        self._size_notices.append(_SizeNotice(reason, DesktopSizeStatus.OK, size_changed=True))

    def announce_size(self) -> None:
        """Tell the current size once (a client that just announced ExtendedDesktopSize)."""
        self._size_notices.append(
            _SizeNotice(DesktopSizeReason.SERVER, DesktopSizeStatus.OK, size_changed=False)
        )

    def answer_size_request(self, status: DesktopSizeStatus) -> None:
        """Answer a SetDesktopSize without resizing; a flood of them gets one answer."""
        notice = _SizeNotice(DesktopSizeReason.THIS_CLIENT, status, size_changed=False)
        if notice not in self._size_notices:
            self._size_notices.append(notice)

    def cursor(self, hotspot_x: int, hotspot_y: int, rgba: npt.NDArray[np.uint8]) -> None:
        """A new cursor shape (H x W x 4 RGBA); only the latest one is sent."""
        self._cursor = _Cursor(hotspot_x, hotspot_y, rgba.copy())

    def pending(self, prefs: EncodingPreferences) -> bool:
        """Whether the next update has something to tell."""
        return bool(self._size_notices) or (self._cursor is not None and prefs.cursor)

    def take(
        self,
        prefs: EncodingPreferences,
        width: int,
        height: int,
        screen_id: int,
        pixel_format: PixelFormat,
    ) -> list[bytes]:
        """The encoded pseudo-rectangles for the next update; forgets them."""
        rects: list[bytes] = []
        for notice in self._size_notices:
            if prefs.extended_desktop_size:
                screens = [Screen(screen_id, 0, 0, width, height)]
                rects.append(
                    encode_extended_desktop_size_rect(
                        notice.reason, notice.status, width, height, screens
                    )
                )
            elif prefs.desktop_size and notice.size_changed:
                rects.append(encode_desktop_size_rect(width, height))
        self._size_notices.clear()
        if self._cursor is not None and prefs.cursor:
            c = self._cursor
            rects.append(encode_cursor_rect(c.hotspot_x, c.hotspot_y, c.rgba, pixel_format))
        self._cursor = None
        return rects
