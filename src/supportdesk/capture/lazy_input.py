"""An input sink opened on the agent's first input, not before.

A session whose consent grants view only must work without any input backend: on
Windows or macOS without X, on a Wayland desktop, or where the customer refused the
permission. So the platform's sink is opened only when input is enabled and the first
event arrives; one that cannot be opened leaves the session as it is, the input
dropped and the reason kept (:attr:`LazyInputSink.unavailable`) for the program to
say, instead of ending a session the customer agreed to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .input_sink import InputSink

__all__ = ["LazyInputSink"]

log = logging.getLogger(__name__)


class LazyInputSink:
    """An :class:`InputSink` that opens ``open_sink()`` on first use (once)."""

    def __init__(self, open_sink: Callable[[], InputSink | None]) -> None:
        self._open = open_sink
        self._sink: InputSink | None = None
        self._enabled = False
        self.unavailable: str | None = None
        """Why the backend could not be opened (None: not tried, or opened)."""

    @property
    def opened(self) -> bool:
        return self._sink is not None

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = value
        if self._sink is not None:
            self._sink.enabled = value

    def key_event(self, keysym: int, down: bool) -> bool:
        sink = self._ready()
        return sink.key_event(keysym, down) if sink is not None else False

    def pointer_event(self, x: int, y: int, button_mask: int) -> bool:
        sink = self._ready()
        return sink.pointer_event(x, y, button_mask) if sink is not None else False

    def release_all(self) -> None:
        if self._sink is not None:
            self._sink.release_all()

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()

    def _ready(self) -> InputSink | None:
        if not self._enabled:
            return None  # a disabled sink drops input: nothing to open for it
        if self._sink is None and self.unavailable is None:
            try:
                self._sink = self._open()
            except Exception as exc:  # whatever the platform raises: no input, no crash
                self.unavailable = f"{type(exc).__name__}: {exc}"
                log.warning("no input backend, the agent's input is dropped: %s", exc)
                return None
            if self._sink is None:
                self.unavailable = "no input backend on this system"
            else:
                self._sink.enabled = self._enabled
        return self._sink
