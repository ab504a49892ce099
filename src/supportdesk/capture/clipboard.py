"""The customer's text clipboard: set it to the agent's text, report when the customer copies.

:class:`X11Clipboard` speaks the ICCCM selection protocol with python-xlib from one
worker thread with its own X connection: it owns CLIPBOARD to hand out the agent's
text (answering TARGETS, UTF8_STRING, TEXT and STRING requests) and watches
CLIPBOARD with XFixes SetSelectionOwnerNotify, converting the new owner's text to
UTF8_STRING (STRING if refused). No X tool has to be installed; XFIXES is in every
X.Org server since 2003. Text larger than ``max_bytes`` (UTF-8) is not passed on,
nor is text an owner only offers incrementally (INCR, which owners use for large
data); both are logged. Windows and macOS have theirs in ``win32_clipboard.py`` and
``macos_clipboard.py``; :func:`.backends.backend_for` opens
the one of the platform chosen for this machine (None on Wayland or without display: the
session then runs without clipboard).

:class:`MemoryClipboard` implements the same interface in memory for tests and
harnesses.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_CLIPBOARD_BYTES",
    "ClipboardListener",
    "CustomerClipboard",
    "MemoryClipboard",
    "X11Clipboard",
]

DEFAULT_MAX_CLIPBOARD_BYTES = 256 * 1024
"""UTF-8 bytes of text taken from or put on the clipboard; matches the RFB side's limit."""

ClipboardListener = Callable[[str], None]
"""Called with the customer's new clipboard text, from the clipboard's own thread."""

_CHUNK = 64 * 1024
"""Property data per ChangeProperty request, well under the core protocol's 256 KiB."""


class CustomerClipboard(Protocol):
    """The customer's text clipboard, usable from any thread."""

    def set_text(self, text: str) -> None:
        """Make ``text`` the clipboard content (the agent pasted it)."""
        ...

    def add_listener(self, listener: ClipboardListener) -> None:
        """Call ``listener`` with the text whenever someone else changes the clipboard."""
        ...

    def remove_listener(self, listener: ClipboardListener) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        ...

    def close(self) -> None:
        """Stop; text we own stays available until then only."""
        ...


class _Listeners:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[ClipboardListener] = []

    def add_listener(self, listener: ClipboardListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: ClipboardListener) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    @property
    def listened(self) -> bool:
        """True while someone wants the customer's copies."""
        with self._lock:
            return bool(self._listeners)

    def _notify(self, text: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(text)
            except Exception:  # one broken listener must not silence the others
                log.exception("clipboard listener failed")


class MemoryClipboard(_Listeners):
    """A clipboard in memory: :meth:`copy` plays the customer copying text."""

    def __init__(self) -> None:
        super().__init__()
        self.text: str | None = None
        self.closed = False

    def set_text(self, text: str) -> None:
        self.text = text

    def copy(self, text: str) -> None:
        """The customer copies ``text``: listeners hear of it."""
        self.text = text
        self._notify(text)

    def close(self) -> None:
        self.closed = True


class X11Clipboard(_Listeners):
    """The CLIPBOARD selection of X display ``display`` (default ``$DISPLAY``).

    Raises RuntimeError if the display cannot be opened or has no XFIXES. The
    worker thread starts at once and ends with :meth:`close`.
    """

    def __init__(
        self, display: str | None = None, *, max_bytes: int = DEFAULT_MAX_CLIPBOARD_BYTES
    ) -> None:
        super().__init__()
        from Xlib import X, Xatom  # imported lazily: only the X11 applet needs python-xlib
        from Xlib import display as xdisplay
        from Xlib.ext import xfixes

        self.max_bytes = max_bytes
        self._X: Any = X
        try:
            self._d: Any = xdisplay.Display(display)
        except Exception as exc:
            raise RuntimeError(f"cannot open X display for the clipboard: {exc}") from exc
        if not self._d.has_extension("XFIXES"):
            self._d.close()
            raise RuntimeError("X server has no XFIXES extension")
        self._d.xfixes_query_version()
        atom = self._d.intern_atom
        self._clipboard_atom: int = atom("CLIPBOARD")
        self._utf8: int = atom("UTF8_STRING")
        self._targets: int = atom("TARGETS")
        self._text_atom: int = atom("TEXT")
        self._string: int = Xatom.STRING
        self._atom_type: int = Xatom.ATOM
        self._incr: int = atom("INCR")
        self._property: int = atom("SUPPORTDESK_CLIPBOARD")
        root = self._d.screen().root
        self._window: Any = root.create_window(-10, -10, 1, 1, 0, X.CopyFromParent)
        self._d.xfixes_select_selection_input(
            self._window, self._clipboard_atom, xfixes.XFixesSetSelectionOwnerNotifyMask
        )
        self._d.flush()
        # python-xlib clones extension event classes per display: match by (code, sub-code).
        self._owner_notify: tuple[int, int] = self._d.extension_event.SetSelectionOwnerNotify
        self._owned: bytes | None = None  # UTF-8 of the text we hand out while we own CLIPBOARD
        self._asked_at: int | None = None  # timestamp of our newest ConvertSelection
        self._commands: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._wake_read, self._wake_write = os.pipe()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="x11-clipboard", daemon=True)
        self._thread.start()

    # -- any thread ------------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        if self._closed:
            return
        self._commands.put(text)
        os.write(self._wake_write, b"x")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._commands.put(None)
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")
        self._thread.join(timeout=2.0)
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- the worker thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                while self._d.pending_events():
                    self._handle(self._d.next_event())
                readable, _, _ = select.select([self._d, self._wake_read], [], [], 1.0)
                if self._wake_read in readable:
                    os.read(self._wake_read, 4096)
                    if not self._take_commands():
                        return
        except Exception:
            log.exception("clipboard thread failed; the clipboard stops working")
        finally:
            with contextlib.suppress(Exception):
                self._window.destroy()
                self._d.close()

    def _take_commands(self) -> bool:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return True
            if command is None:
                return False
            self._own(command)

    def _own(self, text: str) -> None:
        data = text.encode("utf-8")
        if len(data) > self.max_bytes:
            log.warning("clipboard text of %d bytes not set: limit %d", len(data), self.max_bytes)
            return
        self._owned = data
        self._window.set_selection_owner(self._clipboard_atom, self._X.CurrentTime)
        if self._d.get_selection_owner(self._clipboard_atom) != self._window:
            self._owned = None
            log.warning("could not take the clipboard")
        self._d.flush()

    def _handle(self, event: Any) -> None:
        X = self._X
        if event.type == X.SelectionRequest:
            self._answer(event)
        elif event.type == X.SelectionClear:
            self._owned = None
        elif event.type == X.SelectionNotify:
            self._receive(event)
        elif (event.type, getattr(event, "sub_code", None)) == self._owner_notify:
            owner = getattr(event.owner, "id", event.owner)
            ours = owner in (self._window.id, X.NONE)
            # Nobody listening (no control granted): the customer's copy is not even read.
            if event.selection == self._clipboard_atom and not ours and self.listened:
                self._convert(self._utf8, event.selection_timestamp)

    def _convert(self, target: int, timestamp: int) -> None:
        self._asked_at = timestamp
        self._window.delete_property(self._property)
        self._window.convert_selection(self._clipboard_atom, target, self._property, timestamp)
        self._d.flush()

    def _receive(self, event: Any) -> None:
        if event.selection != self._clipboard_atom:
            return
        if self._asked_at is not None and event.time != self._asked_at:
            # The answer to a request overtaken by a newer copy (the customer copied
            # twice in quick succession): the newer request's answer is on its way,
            # and this one must not touch the property it will use.
            return
        if event.property == self._X.NONE:
            if event.target == self._utf8:  # an old owner: ask for Latin-1 instead
                self._convert(self._string, event.time)
            return
        try:
            text = self._read_property()
        finally:
            self._window.delete_property(self._property)
            self._d.flush()
        if text is not None:
            self._notify(text)

    def _read_property(self) -> str | None:
        """The converted text, or None if there is none or it is too large to pass on."""
        any_type = self._X.AnyPropertyType
        probe = self._window.get_property(self._property, any_type, 0, 0)
        if probe is None:
            return None
        if probe.property_type == self._incr:
            log.warning("copied text offered incrementally (too large): not passed on")
            return None
        if probe.bytes_after > self.max_bytes:  # asked before reading: memory stays bounded
            log.warning("copied text of %d bytes not passed on", probe.bytes_after)
            return None
        reply = self._window.get_property(self._property, any_type, 0, (self.max_bytes + 3) // 4)
        if reply is None or reply.format != 8:
            return None
        raw = bytes(reply.value) if not isinstance(reply.value, str) else reply.value.encode()
        encoding = "latin-1" if reply.property_type == self._string else "utf-8"
        text = raw.decode(encoding, errors="replace")
        if len(text.encode("utf-8")) > self.max_bytes:  # Latin-1 grows in UTF-8
            log.warning("copied text of %d bytes not passed on", len(raw))
            return None
        return text

    def _answer(self, event: Any) -> None:
        """Answer a SelectionRequest per ICCCM 2.2: write the property, then SelectionNotify."""
        from Xlib.protocol import event as xevent

        X = self._X
        requestor = event.requestor
        prop = event.property if event.property != X.NONE else event.target
        data = self._owned
        granted = data is not None and event.selection == self._clipboard_atom
        if granted and data is not None:
            if event.target == self._targets:
                targets = [self._targets, self._utf8, self._text_atom, self._string]
                requestor.change_property(prop, self._atom_type, 32, targets)
            elif event.target in (self._utf8, self._text_atom):
                self._write(requestor, prop, self._utf8, data)
            elif event.target == self._string:
                latin = data.decode("utf-8").encode("latin-1", errors="replace")
                self._write(requestor, prop, self._string, latin)
            else:
                granted = False
        reply = xevent.SelectionNotify(
            time=event.time,
            requestor=requestor,
            selection=event.selection,
            target=event.target,
            property=prop if granted else X.NONE,
        )
        requestor.send_event(reply, event_mask=0)
        self._d.flush()

    def _write(self, window: Any, prop: int, kind: int, data: bytes) -> None:
        # A core request holds at most 256 KiB, so large text is appended in pieces.
        window.change_property(prop, kind, 8, data[:_CHUNK], self._X.PropModeReplace)
        for start in range(_CHUNK, len(data), _CHUNK):
            window.change_property(
                prop, kind, 8, data[start : start + _CHUNK], self._X.PropModeAppend
            )
