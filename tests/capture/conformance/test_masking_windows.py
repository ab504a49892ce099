"""Masking on a real Windows desktop (collected on Windows only; run by the hosted
workflow .github/workflows/applet-platforms.yml): the program's UI Automation watcher
finds a focused Win32 password field at its rectangle and lets it go when the focus
moves to a plain field, and the program's window list masks a window by its title and
by its process name. The target is a native window in a child process
(win32_password_target.py); the clicks go through the program's own input sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supportdesk.applet.screen.masking import secret_watcher, window_lister
from supportdesk.capture.backends import Platform
from supportdesk.capture.focus_poll import FocusPollWatcher
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.mask_sources import WindowRuleMasks
from supportdesk.domain.mask_rules import MaskRules, WindowRule
from supportdesk.rfb.geometry import Rect

from .conftest import BackendUnderTest, Target
from .win32_password_target import TITLE

try:
    from tests.desktop import wait_until
except ModuleNotFoundError:
    from desktop import wait_until  # type: ignore[no-redef,import-not-found]

SCRIPT = Path(__file__).with_name("win32_password_target.py")
TOLERANCE = 2  # pixels per edge between UI Automation's rectangle and GetWindowRect's


@pytest.fixture
def window(backend: BackendUnderTest) -> Iterator[Target]:
    target = Target(backend.env, SCRIPT)
    try:
        yield target
    finally:
        target.close()


@pytest.fixture
def sink(backend: BackendUnderTest) -> Iterator[InputSink]:
    source = backend.backend.screen_source()
    whole = source.monitors()[0]
    source.close()
    opened = backend.backend.input_sink()
    opened.origin = (whole.left, whole.top)  # type: ignore[attr-defined]  # every sink has it
    opened.enabled = True
    try:
        yield opened
    finally:
        opened.close()


def click_into(sink: InputSink, ltrb: list[int]) -> None:
    origin = sink.origin  # type: ignore[attr-defined]
    x = (ltrb[0] + ltrb[2]) // 2 - origin[0]
    y = (ltrb[1] + ltrb[3]) // 2 - origin[1]
    for mask in (0, 1, 0):
        assert sink.pointer_event(x, y, mask)


def close_to(rect: Rect, ltrb: list[int], tolerance: int) -> bool:
    left, top, right, bottom = ltrb
    return (
        abs(rect.x - left) <= tolerance
        and abs(rect.y - top) <= tolerance
        and abs(rect.x + rect.width - right) <= tolerance
        and abs(rect.y + rect.height - bottom) <= tolerance
    )


def test_uia_finds_the_focused_password_field_at_its_rectangle(
    window: Target, sink: InputSink
) -> None:
    watcher = secret_watcher(Platform.WINDOWS)
    assert isinstance(watcher, FocusPollWatcher)
    assert watcher.start(), f"the UI Automation probe did not start: {watcher.reason}"
    try:
        field = window.layout["password"]
        click_into(sink, field)
        found = wait_until(
            lambda: [a.rect for a in watcher.areas() if close_to(a.rect, field, TOLERANCE)],
            10.0,
            what=f"the password field {field} among {watcher.areas()}",
        )
        print("UI Automation:", found, "GetWindowRect:", field)
        click_into(sink, window.layout["plain"])  # a plain field is not secret
        wait_until(lambda: not watcher.areas(), 10.0, what="the mask to go with the focus")
    finally:
        watcher.stop()


def test_a_window_rule_masks_the_window_by_title_and_by_process(window: Target) -> None:
    client = window.layout["client"]
    for rule in (WindowRule(title="maskentest"), WindowRule(title=TITLE, application="python")):
        masks = WindowRuleMasks(MaskRules("t", (rule,)), window_lister(Platform.WINDOWS))
        masks.refresh()
        rects = [a.rect for a in masks.areas()]
        print(rule, "->", rects, "client area:", client)
        assert len(rects) == 1, rule
        (r,) = rects
        # The frame holds the client area, with at most a title bar and borders around it.
        assert r.x <= client[0] and r.y <= client[1], rule
        assert r.x + r.width >= client[2] and r.y + r.height >= client[3], rule
        assert client[0] - r.x <= 16 and client[1] - r.y <= 80, rule
    masks = WindowRuleMasks(
        MaskRules("t", (WindowRule(title=TITLE, application="notepad"),)),
        window_lister(Platform.WINDOWS),
    )
    masks.refresh()
    assert not masks.areas()  # both must match: the process is python, not notepad
