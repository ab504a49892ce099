"""One conformance suite for every capture/input/clipboard backend (issue 14): what the
agent sees is the screen, what the agent types and clicks arrives, the clipboard goes
both ways, and revoking control lets go of everything held.

The other side of every check is a Tk window in a child process (``tk_target.py``), so
the suite reads the same on X11, Windows and macOS. Here it runs for X11 on Xvfb; the
workflow ``.github/workflows/applet-platforms.yml`` runs it on Windows and macOS.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest

from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.keysyms import Shift_L, char_to_keysym
from supportdesk.capture.screen_source import Monitor

from .conftest import BackendUnderTest, Target
from .tk_target import BLOCK, COLOURS

try:
    from tests.desktop import wait_until
except ModuleNotFoundError:
    from desktop import wait_until  # type: ignore[no-redef,import-not-found]

TEXT = "Grüße – 100 €"
WHEEL_UP, WHEEL_DOWN, WHEEL_LEFT, WHEEL_RIGHT = 1 << 3, 1 << 4, 1 << 5, 1 << 6


def expected_picture() -> np.ndarray:
    """The target's picture as BGR, as a frame holds it."""
    rows = []
    for colours in COLOURS:
        row = np.concatenate(
            [np.full((BLOCK, BLOCK, 3), (b, g, r), dtype=np.uint8) for r, g, b in colours],
            axis=1,
        )
        rows.append(row)
    return np.concatenate(rows, axis=0)


@pytest.fixture
def whole(backend: BackendUnderTest) -> Iterator[Monitor]:
    source = backend.backend.screen_source()
    try:
        yield source.monitors()[0]
    finally:
        source.close()


@pytest.fixture
def sink(backend: BackendUnderTest, whole: Monitor) -> Iterator[InputSink]:
    backend.require("accessibility")
    opened = backend.backend.input_sink()
    opened.origin = (whole.left, whole.top)  # type: ignore[attr-defined]  # every sink has it
    opened.enabled = True
    try:
        yield opened
    finally:
        opened.close()


def rfb(whole: Monitor, x: int, y: int) -> tuple[int, int]:
    """Root coordinates as RFB coordinates of monitor 0."""
    return x - whole.left, y - whole.top


def click(sink: InputSink, x: int, y: int, mask: int) -> None:
    assert sink.pointer_event(x, y, 0)
    assert sink.pointer_event(x, y, mask)
    assert sink.pointer_event(x, y, 0)


def test_capture_matches_the_known_picture(backend: BackendUnderTest, target: Target) -> None:
    backend.require("screen_recording")
    source = backend.backend.screen_source()
    whole = source.monitors()[0]
    x, y, w, h = target.layout["picture"]
    x, y = rfb(whole, x, y)
    expected = expected_picture().astype(int)

    def captured() -> np.ndarray:
        frame = source.grab(0)
        return frame[y : y + h, x : x + w, :3].astype(int)

    def matches() -> bool:
        region = captured()
        return region.shape == expected.shape and int(np.abs(region - expected).max()) <= (
            backend.tolerance
        )

    try:
        wait_until(matches, 10.0, what="the picture on screen")  # Tk draws when it can
        region = captured()
    finally:
        source.close()
    assert region.shape == expected.shape
    assert int(np.abs(region - expected).max()) <= backend.tolerance


def test_typed_text_arrives(
    backend: BackendUnderTest, target: Target, sink: InputSink, whole: Monitor
) -> None:
    click(sink, *rfb(whole, *target.layout["entry"]), 1)  # the field gets the focus
    for char in TEXT:
        keysym = char_to_keysym(char)
        assert sink.key_event(keysym, True), char
        assert sink.key_event(keysym, False), char
    typed: list[str] = []

    def arrived() -> bool:
        typed.append(target.ask("entry", "entry"))
        return typed[-1] == TEXT

    with contextlib.suppress(TimeoutError):
        wait_until(arrived, 10.0, what="the typed text")
    assert typed[-1] == TEXT


def test_pointer_moves_clicks_and_wheel_arrive(
    backend: BackendUnderTest, target: Target, sink: InputSink, whole: Monitor
) -> None:
    left, top, width, height = target.layout["pad"]
    cx, cy = left + width // 2, top + height // 2
    x, y = rfb(whole, cx, cy)

    def near(at: list[int]) -> bool:
        return abs(at[0] - cx) <= 1 and abs(at[1] - cy) <= 1

    mark = len(target.seen())
    assert sink.pointer_event(x, y, 0)
    target.wait_for(lambda e: "motion" in e and near(e["motion"]), after=mark, what="the move")
    for number, mask in ((1, 1 << 0), (3, 1 << 2)):
        mark = len(target.seen())
        click(sink, x, y, mask)
        press = target.wait_for(
            lambda e, n=number: e.get("button") == n and e["down"], after=mark, what="a press"
        )
        target.wait_for(
            lambda e, n=number: e.get("button") == n and not e["down"], after=mark, what="a release"
        )
        assert near(press["at"])
    wheels = {}
    notches = {"up": WHEEL_UP, "down": WHEEL_DOWN, "left": WHEEL_LEFT, "right": WHEEL_RIGHT}
    for name, mask in notches.items():
        mark = len(target.seen())
        assert sink.pointer_event(x, y, mask)
        assert sink.pointer_event(x, y, 0)
        wheels[name] = target.wait_for(lambda e: "wheel" in e, after=mark, what=name)["wheel"]
    assert (wheels["up"], wheels["down"]) == ("up", "down")
    assert {wheels["left"], wheels["right"]} == {"h-", "h+"}  # opposite ways, sideways


def test_clipboard_goes_both_ways(backend: BackendUnderTest, target: Target) -> None:
    board = backend.backend.clipboard()
    assert board is not None, "the backend has no clipboard"
    heard: list[str] = []
    try:
        to_customer = f"{TEXT} vom Berater"
        board.set_text(to_customer)
        wait_until(
            lambda: target.ask("clipboard", "clipboard") == to_customer,
            10.0,
            what="the agent's text in the target's clipboard",
        )
        board.add_listener(heard.append)
        to_agent = f"{TEXT} vom Kunden"
        target.ask("copy", "copied", text=to_agent)
        wait_until(lambda: to_agent in heard, 10.0, what="the customer's copy")
    finally:
        board.close()
    assert heard == [to_agent]


def test_revoking_control_releases_held_keys_and_buttons(
    backend: BackendUnderTest, target: Target, sink: InputSink, whole: Monitor
) -> None:
    left, top, width, height = target.layout["pad"]
    x, y = rfb(whole, left + width // 2, top + height // 2)
    mark = len(target.seen())
    assert sink.pointer_event(x, y, 0)
    assert sink.pointer_event(x, y, 1)  # the agent holds the left button ...
    assert sink.key_event(Shift_L, True)  # ... and Shift
    target.wait_for(lambda e: e.get("button") == 1 and e["down"], after=mark, what="the press")
    target.wait_for(lambda e: e.get("key") == "Shift_L" and e["down"], after=mark, what="Shift")
    held = len(target.seen())
    sink.enabled = False  # the customer revokes control
    target.wait_for(
        lambda e: e.get("button") == 1 and not e["down"], after=held, what="the button let go"
    )
    target.wait_for(
        lambda e: e.get("key") == "Shift_L" and not e["down"], after=held, what="Shift let go"
    )
    assert not sink.key_event(Shift_L, True)  # and nothing more is injected
    assert not sink.pointer_event(x, y, 1)
