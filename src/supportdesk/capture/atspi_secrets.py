"""Secret input on Linux: the focused password fields the accessibility bus (AT-SPI2) reports.

The watcher runs its own asyncio loop in a thread, talking D-Bus with ``dbus-fast``:

1. On the session bus it asks ``org.a11y.Bus`` for the accessibility bus (D-Bus starts
   ``at-spi-bus-launcher`` if need be) and sets ``org.a11y.Status.IsEnabled`` so that
   toolkits and browsers expose their widgets; :meth:`SecretFieldWatcher.stop` puts the
   old value back.
2. On the accessibility bus it registers for ``object:state-changed:focused`` (programs
   send events only when someone registered) and listens to ``StateChanged``.
3. When an object gains focus, it asks the object's role and its extents in one go (both
   questions sent before either answer is awaited: one round trip); a ``PASSWORD_TEXT``
   (40) is tracked, its extents in screen coordinates read again every
   ``poll_interval`` seconds, so a field that scrolls or whose window moves is followed.
   AT-SPI2 has no "secret" state: the password role is what GTK, Qt, Chromium and Firefox
   set for a hidden entry (``<input type=password>``, ``GtkEntry`` with visibility off).
   Until the answers are in, the picture is held: :meth:`SecretFieldWatcher.areas`
   (which the capture loop calls just before and just after each grab) waits for them,
   up to ``hold`` seconds, and then masks the whole picture until they come (fail
   closed). The focus event may come with the first typed key (a Chromium started
   before accessibility was on joins the bus only at its first key press), at about the
   time the key's dot is drawn: the grab that catches the dot must not be handed on
   before the questions are answered. Waiting rather than blanking keeps the
   agent's picture calm: most focus changes are not password fields, and a blank frame
   for each would flicker (and be reported as masking). A question that gets no answer
   within ``_CALL_TIMEOUT`` ends the wait. And since the watcher's thread shares the
   program's interpreter with capture and encoding, it may not have read a focus event
   that already waits in its socket: :meth:`SecretFieldWatcher.areas` first looks
   (``select``, no read) and, if something waits, lets the watcher's loop read it
   before answering (within the same ``hold``).
4. When it loses focus or disappears, it is dropped.

:meth:`SecretFieldWatcher.areas` returns, for each tracked field, its newest and its
previous extents (a field that moved between two reads is covered at both places). A
field whose extents cannot be read for a moment keeps its last ones: never unmasked by
a slow answer. If there is no session bus or no accessibility bus, :meth:`start`
returns False and nothing is masked automatically: the consent dialog says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.capture.mask_sources import EVERYWHERE
from supportdesk.rfb.geometry import Rect

log = logging.getLogger(__name__)

ROLE_PASSWORD_TEXT = 40
COORD_TYPE_SCREEN = 0
FOCUS_EVENT = "object:state-changed:focused"
_A11Y = ("org.a11y.Bus", "/org/a11y/bus")
_REGISTRY = ("org.a11y.atspi.Registry", "/org/a11y/atspi/registry", "org.a11y.atspi.Registry")
_MATCH = "type='signal',interface='org.a11y.atspi.Event.Object',member='StateChanged'"
_CALL_TIMEOUT = 1.0
DEFAULT_HOLD = 0.1
"""Seconds :meth:`SecretFieldWatcher.areas` waits for a focused object's role before it
masks the whole picture instead (the answer takes 1 to 3 ms on an idle machine)."""


class AccessibilityUnavailable(RuntimeError):
    """No session bus or no accessibility bus: secret fields cannot be found automatically."""


@dataclass(slots=True)
class _Field:
    now: Rect
    before: Rect


class SecretFieldWatcher:
    """Track the focused password fields of the desktop reached by ``session_bus`` (None: env)."""

    def __init__(
        self,
        *,
        session_bus: str | None = None,
        poll_interval: float = 0.015,
        hold: float = DEFAULT_HOLD,
    ) -> None:
        self._session_address = session_bus
        self._poll_interval = poll_interval
        self._hold = hold
        self._lock = threading.Lock()
        self._settle = threading.Condition(self._lock)  # notified when a role is known
        self._fields: dict[tuple[str, str], _Field] = {}
        self._focus: dict[tuple[str, str], int] = {}  # focus generation: last event wins
        self._generation = 0
        self._pending: dict[tuple[str, str], int] = {}  # focused, role not known yet
        self._bus: Any = None
        self._bus_fd: int | None = None  # the accessibility bus's socket, to look at
        self._tasks: set[asyncio.Future[None]] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready: Future[bool] = Future()
        self._restore_enabled: bool | None = None
        self.available = False
        self.reason = ""
        """Why it is unavailable (for the log and the diagnostics; never shown verbatim)."""

    # -- any thread ---------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> bool:
        """Connect and start watching; True if the accessibility bus answers (else fail safe)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mask-atspi", daemon=True)
            self._thread.start()
        try:
            self.available = self._ready.result(timeout)
        except TimeoutError:
            self.reason = "the accessibility bus did not answer"
            self.available = False
        return self.available

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching and restore the desktop's accessibility setting."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def areas(self) -> Sequence[MaskArea]:
        """The tracked password fields, where they are and where they were one read ago.

        While a focused object's role is being asked, waits for the answer (at most
        ``hold`` seconds); without it by then, the whole picture."""
        deadline = time.monotonic() + self._hold
        if self._unread():
            self._drain(deadline)
        with self._lock:
            if self._pending:
                self._settle.wait_for(lambda: not self._pending, deadline - time.monotonic())
            fields = list(self._fields.values())
            pending = bool(self._pending)
        out: list[MaskArea] = []
        if pending:  # a focus change whose role is still not known: nothing may show
            out.append(MaskArea(EVERYWHERE, MaskKind.SECRET_INPUT))
        for f in fields:
            out.append(MaskArea(f.now, MaskKind.SECRET_INPUT))
            if f.before != f.now:
                out.append(MaskArea(f.before, MaskKind.SECRET_INPUT))
        return out

    def _unread(self) -> bool:
        """Whether a message waits in the accessibility bus's socket (not read here)."""
        fd = self._bus_fd
        if fd is None:
            return False
        try:
            readable, _, _ = select.select([fd], [], [], 0)
        except (OSError, ValueError):  # closed meanwhile
            return False
        return bool(readable)

    def _drain(self, deadline: float) -> None:
        """Let the watcher's loop read what waits in its socket (until ``deadline``).

        A callback posted from here runs before the loop's next reads; the one it posts
        in turn runs after them, so once it has run, what waited has been handled."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        done = threading.Event()
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(lambda: loop.call_soon(done.set))
            done.wait(max(0.0, deadline - time.monotonic()))

    @property
    def pending(self) -> int:
        """How many focus changes wait for their object's role (the picture is masked)."""
        with self._lock:
            return len(self._pending)

    @property
    def tracking(self) -> int:
        """How many password fields are masked now."""
        with self._lock:
            return len(self._fields)

    # -- the watcher's own thread ---------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:
            self.reason = self.reason or f"{type(exc).__name__}: {exc}"
            log.warning("automatic masking unavailable: %s", self.reason)
        finally:
            if not self._ready.done():
                self._ready.set_result(False)

    async def _main(self) -> None:
        from dbus_fast import BusType, Variant
        from dbus_fast.aio import MessageBus

        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        address = self._session_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        if not address:
            self.reason = "no session bus (DBUS_SESSION_BUS_ADDRESS unset)"
            raise AccessibilityUnavailable(self.reason)
        session = await MessageBus(bus_address=address, bus_type=BusType.SESSION).connect()
        props = "org.freedesktop.DBus.Properties"
        status = ("org.a11y.Status", "IsEnabled")
        try:
            reply = await self._call(session, *_A11Y, "org.a11y.Bus", "GetAddress")
            a11y_address = str(reply[0])
            was = await self._call(session, *_A11Y, props, "Get", "ss", *status)
            if not bool(was[0].value):
                self._restore_enabled = False
                await self._call(session, *_A11Y, props, "Set", "ssv", *status, Variant("b", True))
            await self._watch(a11y_address)
        finally:
            # The desktop's setting is put back whatever happened (it outlives us in dconf).
            if self._restore_enabled is not None:
                with contextlib.suppress(Exception):
                    value = Variant("b", self._restore_enabled)
                    await self._call(session, *_A11Y, props, "Set", "ssv", *status, value)
            session.disconnect()

    async def _watch(self, a11y_address: str) -> None:
        """Listen on the accessibility bus until :meth:`stop`."""
        from dbus_fast.aio import MessageBus

        assert self._stopping is not None
        bus = await MessageBus(bus_address=a11y_address).connect()
        try:
            self._bus = bus
            bus.add_message_handler(self._on_message)
            self._bus_fd = bus._fd
            await self._call(
                bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus", "AddMatch", "s", _MATCH,
            )  # fmt: skip
            # The registry daemon is started on the first call and may drop that one.
            for attempt in range(5):
                try:
                    await self._call(bus, *_REGISTRY, "RegisterEvent", "sass", FOCUS_EVENT, [], "")
                    break
                except (LookupError, TimeoutError):
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.2)
            self._ready.set_result(True)
            log.info("automatic masking of password fields on (AT-SPI2)")
            poll = asyncio.create_task(self._poll())
            await self._stopping.wait()
            poll.cancel()
            with contextlib.suppress(Exception):
                await self._call(bus, *_REGISTRY, "DeregisterEvent", "s", FOCUS_EVENT)
        finally:
            self._bus_fd = None
            bus.disconnect()

    async def _call(
        self, bus: Any, dest: str, path: str, iface: str, member: str, sig: str = "", *body: Any
    ) -> list[Any]:
        from dbus_fast import Message, MessageType

        message = Message(
            destination=dest, path=path, interface=iface, member=member,
            signature=sig, body=list(body),
        )  # fmt: skip
        reply = await asyncio.wait_for(bus.call(message), _CALL_TIMEOUT)
        if reply.message_type is MessageType.ERROR:
            raise LookupError(f"{dest}{path} {member}: {reply.error_name} {reply.body}")
        return list(reply.body)

    def _on_message(self, message: Any) -> None:
        """A focus change: start or stop tracking (runs on the watcher's loop)."""
        if message.member != "StateChanged" or not message.body or message.body[0] != "focused":
            return
        key = (str(message.sender), str(message.path))
        self._generation += 1
        if message.body[1]:
            self._focus[key] = self._generation
            with self._lock:
                self._pending[key] = self._generation
            task = asyncio.ensure_future(self._focused(key, self._generation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._focus.pop(key, None)
            with self._lock:
                self._fields.pop(key, None)
                self._pending.pop(key, None)
                self._settle.notify_all()

    async def _focused(self, key: tuple[str, str], generation: int) -> None:
        sender, path = key
        found: Rect | None = None
        try:
            role, rect = await asyncio.gather(
                self._call(self._bus, sender, path, "org.a11y.atspi.Accessible", "GetRole"),
                self._extents(key),
                return_exceptions=True,
            )
            if isinstance(role, BaseException):
                raise role
            if role[0] == ROLE_PASSWORD_TEXT:
                if isinstance(rect, BaseException):
                    raise rect
                found = rect
        except (LookupError, TimeoutError) as exc:
            log.debug("focused object %s: %s", key, exc)
        finally:  # also when stopped meanwhile: the hold ends with the question
            self._settled(key, generation, found)

    def _settled(self, key: tuple[str, str], generation: int, rect: Rect | None) -> None:
        """The focused object's role is known: track it if it is a password field."""
        with self._lock:
            if self._pending.get(key) == generation:
                del self._pending[key]
            if rect is not None and self._focus.get(key) == generation:
                self._fields[key] = _Field(rect, rect)  # not if focus moved on meanwhile
            self._settle.notify_all()

    async def _extents(self, key: tuple[str, str]) -> Rect:
        sender, path = key
        ((x, y, w, h),) = await self._call(
            self._bus, sender, path, "org.a11y.atspi.Component", "GetExtents",
            "u", COORD_TYPE_SCREEN,
        )  # fmt: skip
        return Rect(int(x), int(y), int(w), int(h))

    async def _poll(self) -> None:
        """Follow the tracked fields' extents (moves, scrolling, their window closing)."""
        while True:
            await asyncio.sleep(self._poll_interval)
            with self._lock:
                keys = list(self._fields)
            for key in keys:
                try:
                    rect = await self._extents(key)
                except TimeoutError:
                    continue  # slow answer: keep the last extents masked
                except LookupError:
                    with self._lock:  # the object is gone, and its pixels with it
                        self._fields.pop(key, None)
                    continue
                with self._lock:
                    f = self._fields.get(key)
                    if f is not None:
                        f.before, f.now = f.now, rect
