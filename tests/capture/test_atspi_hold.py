"""The AT-SPI watcher holds the picture while a focused object's role is asked.

On a real accessibility bus (tests/accessibility.py), a program of our own joins it the
way a browser does (dbus-fast, as the watcher) and announces that one of its objects got
the focus; it answers the watcher's questions when the test says so, or never (a
program that hangs). Until the answers are in, :meth:`SecretFieldWatcher.areas` waits,
up to ``hold``; past that it masks the whole picture, until the questions time out.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from supportdesk.capture.atspi_secrets import ROLE_PASSWORD_TEXT, SecretFieldWatcher
from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.capture.mask_sources import EVERYWHERE
from supportdesk.rfb.geometry import Rect

from ..accessibility import session_bus
from ..desktop import Desktop, wait_until

pytestmark = pytest.mark.desktop

FIELD = Rect(40, 60, 220, 30)
PATH = "/org/a11y/atspi/accessible/7"


class Program:
    """An application on the accessibility bus, in a thread of its own, whose one object
    takes the focus on :meth:`focus` and answers role and extents once :meth:`answer`
    is called (a password field) -- or never."""

    def __init__(self, a11y_address: str) -> None:
        self.asked: list[str] = []
        self._held: list[Message] = []
        self._loop = asyncio.new_event_loop()
        self._bus: Any = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._run(self._connect(a11y_address))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _connect(self, address: str) -> None:
        self._bus = await MessageBus(bus_address=address).connect()
        self._bus.add_message_handler(self._on_call)

    def _on_call(self, message: Message) -> bool | None:
        if message.message_type is MessageType.METHOD_CALL and message.path == PATH:
            self.asked.append(str(message.member))
            self._held.append(message)
            return True  # handled; the reply comes with answer(), or never
        return None

    def focus(self) -> None:
        async def send() -> None:
            await self._bus.send(
                Message.new_signal(
                    PATH, "org.a11y.atspi.Event.Object", "StateChanged",
                    "siiva{sv}", ["focused", 1, 0, Variant("i", 0), {}],
                )
            )  # fmt: skip

        self._run(send())

    def answer(self) -> None:
        async def reply() -> None:
            for call in self._held:
                if call.member == "GetRole":
                    body: list[Any] = [ROLE_PASSWORD_TEXT]
                    await self._bus.send(Message.new_method_return(call, "u", body))
                elif call.member == "GetExtents":
                    body = [[FIELD.x, FIELD.y, FIELD.width, FIELD.height]]
                    await self._bus.send(Message.new_method_return(call, "(iiii)", body))
            self._held.clear()

        self._run(reply())

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._bus.disconnect)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def watched(desktop: Desktop) -> Iterator[tuple[SecretFieldWatcher, Program]]:
    env = desktop.env
    with session_bus(env) as address:
        watcher = SecretFieldWatcher(session_bus=address, hold=0.2)
        assert watcher.start(), watcher.reason
        a11y = subprocess.run(
            ["dbus-send", f"--bus={address}", "--print-reply=literal", "--dest=org.a11y.Bus",
             "/org/a11y/bus", "org.a11y.Bus.GetAddress"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        program = Program(a11y)
        try:
            yield watcher, program
        finally:
            program.close()
            watcher.stop()


def test_areas_wait_for_the_role_and_then_cover_the_field(
    watched: tuple[SecretFieldWatcher, Program],
) -> None:
    watcher, program = watched
    program.focus()
    wait_until(lambda: len(program.asked) == 2, what="role and extents asked together")
    assert sorted(program.asked) == ["GetExtents", "GetRole"]  # in one round trip
    assert watcher.pending == 1
    timer = threading.Timer(0.05, program.answer)
    timer.start()
    started = time.monotonic()
    areas = watcher.areas()  # the capture loop's read right after a grab
    waited = time.monotonic() - started
    timer.join()
    assert areas == [MaskArea(FIELD, MaskKind.SECRET_INPUT)]  # held, then the field
    assert 0.04 < waited < 0.2
    assert watcher.pending == 0 and watcher.tracking == 1


def test_a_program_that_never_answers_masks_everything_until_the_questions_time_out(
    watched: tuple[SecretFieldWatcher, Program],
) -> None:
    watcher, program = watched
    program.focus()
    wait_until(lambda: len(program.asked) == 2, what="role and extents asked")
    started = time.monotonic()
    areas = watcher.areas()
    waited = time.monotonic() - started
    assert areas == [MaskArea(EVERYWHERE, MaskKind.SECRET_INPUT)]  # fail closed
    assert 0.19 < waited < 0.6
    # The questions time out (after 1 s): the hold ends, nothing is masked.
    wait_until(lambda: watcher.pending == 0, timeout=3, what="the questions timed out")
    started = time.monotonic()
    assert watcher.areas() == []
    assert time.monotonic() - started < 0.05  # no wait without a question in flight


def test_a_focus_event_waiting_unread_in_the_socket_is_read_before_areas_answer(
    watched: tuple[SecretFieldWatcher, Program],
) -> None:
    """The watcher's thread kept from running (as by the program's other threads): the
    focus event waits in its socket, and ``areas()`` lets it be read before answering."""
    watcher, program = watched
    loop = watcher._loop
    assert loop is not None
    loop.call_soon_threadsafe(time.sleep, 0.1)  # the watcher's loop is busy for 0.1 s
    program.focus()
    time.sleep(0.02)  # the event is in the watcher's socket, not yet read
    assert watcher.pending == 0

    def answer_when_asked() -> None:
        wait_until(lambda: len(program.asked) == 2, what="role and extents asked")
        program.answer()

    answering = threading.Thread(target=answer_when_asked)
    answering.start()
    areas = watcher.areas()
    answering.join()
    assert areas == [MaskArea(FIELD, MaskKind.SECRET_INPUT)]
