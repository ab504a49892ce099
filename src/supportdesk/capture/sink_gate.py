"""What every platform input sink shares: the enabled gate and closing once.

A sink starts as its caller says (normally disabled); clearing :attr:`enabled`
releases every key and button the agent holds, because an agent whose control is
revoked must not leave Shift or a mouse button pressed on the customer's machine.
A platform that must prepare the desktop for remote input while control lasts does so
in :meth:`SinkGate._control_began` and undoes it in :meth:`SinkGate._control_ended`.
``release_all`` and ``close`` are safe to call at any time and from any thread.
"""

from __future__ import annotations

import threading
from typing import Self

__all__ = ["SinkGate"]


class SinkGate:
    """Base of the input sinks; subclasses implement :meth:`_release_all` (called with
    the lock held) and may add to :meth:`_disconnect`."""

    def __init__(self, enabled: bool) -> None:
        self._lock = threading.RLock()
        self._enabled = False
        self._closed = False
        self.enabled = enabled

    @property
    def enabled(self) -> bool:
        """Whether events are injected; clearing it releases all held keys and buttons."""
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        with self._lock:
            if self._closed or value == self._enabled:
                return
            self._enabled = value
            if value:
                self._control_began()
            else:
                self._release_all()
                self._control_ended()

    def release_all(self) -> None:
        """Release every key (last pressed first) and button held through this sink."""
        with self._lock:
            if not self._closed:
                self._release_all()

    def close(self) -> None:
        """Disable and release everything; the sink is unusable afterwards."""
        with self._lock:
            if self._closed:
                return
            self.enabled = False
            self._release_all()
            self._disconnect()
            self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _release_all(self) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        """What closing does after the release (nothing by default)."""

    def _control_began(self) -> None:
        """Control was granted (called with the lock held; nothing by default)."""

    def _control_ended(self) -> None:
        """Control ended, after the release (called with the lock held; nothing by default)."""
