"""The input backend is opened on the agent's first input, never for a view-only
session, and a backend that cannot be opened drops input instead of ending the session."""

from __future__ import annotations

import pytest

from supportdesk.capture.lazy_input import LazyInputSink


class RecordingSink:
    """A stand-in platform sink that keeps what it was asked to do."""

    def __init__(self) -> None:
        self.enabled = False
        self.events: list[tuple[object, ...]] = []
        self.closed = False

    def key_event(self, keysym: int, down: bool) -> bool:
        self.events.append(("key", keysym, down, self.enabled))
        return self.enabled

    def pointer_event(self, x: int, y: int, button_mask: int) -> bool:
        self.events.append(("pointer", x, y, button_mask, self.enabled))
        return self.enabled

    def release_all(self) -> None:
        self.events.append(("release_all",))

    def close(self) -> None:
        self.closed = True


def test_a_view_only_session_never_opens_the_backend() -> None:
    sink = LazyInputSink(lambda: pytest.fail("opened for a view-only session"))
    assert sink.key_event(0x61, True) is False
    assert sink.pointer_event(10, 10, 1) is False
    sink.release_all()
    sink.close()
    assert not sink.opened and sink.unavailable is None


def test_the_backend_opens_once_on_the_first_enabled_input() -> None:
    made: list[RecordingSink] = []

    def open_sink() -> RecordingSink:
        made.append(RecordingSink())
        return made[-1]

    sink = LazyInputSink(open_sink)
    sink.enabled = True
    assert made == []  # enabling alone opens nothing
    assert sink.key_event(0x61, True) and sink.pointer_event(3, 4, 0)
    assert len(made) == 1 and made[0].events == [
        ("key", 0x61, True, True),
        ("pointer", 3, 4, 0, True),
    ]
    sink.enabled = False  # revoked: the real sink hears it at once
    assert made[0].enabled is False
    assert sink.key_event(0x62, True) is False
    sink.release_all()
    sink.close()
    assert made[0].events[-1] == ("release_all",) and made[0].closed
    assert len(made) == 1


def test_a_backend_that_cannot_open_drops_input_and_says_why() -> None:
    attempts = []

    def no_display() -> RecordingSink:
        attempts.append(1)
        raise RuntimeError('Can\'t connect to display ":0"')

    sink = LazyInputSink(no_display)
    sink.enabled = True
    assert sink.key_event(0x61, True) is False
    assert sink.pointer_event(1, 1, 1) is False
    assert attempts == [1]  # not tried again for every event
    assert sink.unavailable is not None and "display" in sink.unavailable
    sink.close()


def test_no_backend_on_this_system_is_the_same() -> None:
    sink = LazyInputSink(lambda: None)
    sink.enabled = True
    assert sink.key_event(0x61, True) is False
    assert sink.unavailable == "no input backend on this system"
