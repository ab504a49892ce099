"""A clipboard watched by polling a change counter, for platforms without change events
that a background program can use: Windows (``GetClipboardSequenceNumber``) and macOS
(``NSPasteboard.changeCount``).

:class:`PolledClipboard` keeps the contract of :mod:`.clipboard`: ``set_text`` from any
thread, listeners called from the clipboard's own thread with the customer's new text,
nothing read while nobody listens (a copy made then is not read, nor passed on later),
our own text never reported back, text over ``max_bytes`` (UTF-8) neither taken nor
given. One worker thread does all platform calls, because both platforms tie clipboard
access to a thread (Windows: the window that opens the clipboard; macOS: the
autorelease pool). A subclass supplies four primitives on that thread.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading

from supportdesk.capture.clipboard import DEFAULT_MAX_CLIPBOARD_BYTES, _Listeners

__all__ = ["POLL_SECONDS", "PolledClipboard"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
"""How often the change counter is read: a copy reaches the agent within this."""


class PolledClipboard(_Listeners):
    """The shared loop; subclasses implement ``_open``, ``_change_count``, ``_read`` and
    ``_write`` (called on the worker thread only) and may override ``_close``."""

    thread_name = "clipboard"

    def __init__(
        self, *, max_bytes: int = DEFAULT_MAX_CLIPBOARD_BYTES, poll_seconds: float = POLL_SECONDS
    ) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.poll_seconds = poll_seconds
        self._commands: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._closed = False
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            raise RuntimeError(f"cannot open the clipboard: {self._failure}") from self._failure

    # -- the platform, on the worker thread ------------------------------------------------

    def _open(self) -> None:
        """Prepare (load libraries, create a window); raise if the clipboard is unusable."""

    def _close(self) -> None:
        """Release what :meth:`_open` took."""

    def _change_count(self) -> int:
        """A number that changes whenever anyone puts something on the clipboard."""
        raise NotImplementedError

    def _read(self) -> str | None:
        """The clipboard's text, or None (no text, too large, or busy)."""
        raise NotImplementedError

    def _write(self, text: str) -> bool:
        """Put ``text`` on the clipboard; False if the platform refused."""
        raise NotImplementedError

    # -- any thread ------------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        if not self._closed:
            self._commands.put(text)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._commands.put(None)
        self._thread.join(timeout=2.0)

    # -- the worker thread -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._open()
            seen = self._change_count()
        except Exception as exc:  # reported to the constructor's caller
            self._failure = exc
            self._started.set()
            return
        self._started.set()
        try:
            while True:
                try:
                    command = self._commands.get(timeout=self.poll_seconds)
                except queue.Empty:
                    command = ""
                    idle = True
                else:
                    idle = False
                if command is None:
                    return
                if not idle:
                    self._put(command)
                    seen = self._change_count()  # our own text is not news
                    continue
                count = self._change_count()
                if count == seen:
                    continue
                seen = count
                # Nobody listening (no control granted): the customer's copy is not read.
                if self.listened:
                    text = self._read()
                    if text is not None:
                        self._notify(text)
        except Exception:
            log.exception("clipboard thread failed; the clipboard stops working")
        finally:
            with contextlib.suppress(Exception):
                self._close()

    def _put(self, text: str) -> None:
        if len(text.encode("utf-8")) > self.max_bytes:
            log.warning("clipboard text of %d characters not set: too large", len(text))
            return
        if not self._write(text):
            log.warning("could not set the clipboard")

    def _fits(self, text: str) -> bool:
        """Whether ``text`` read from the clipboard may be passed on (logged if not)."""
        size = len(text.encode("utf-8"))
        if size > self.max_bytes:
            log.warning("copied text of %d bytes not passed on", size)
            return False
        return True
