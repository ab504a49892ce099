"""Masking on a real macOS desktop (collected on macOS only; run by the hosted workflow
.github/workflows/applet-platforms.yml): the program's AX watcher finds a focused
NSSecureTextField at its rectangle, and the program's window list masks a window by its
owner and by its title. The target is a native window made by ``osascript -l
JavaScript`` (macos_password_target.js). Asking another program's elements needs the
Accessibility permission and window titles need Screen Recording: a runner without them
reports those checks as XFAIL with the reason, never as a pass."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportdesk.applet.screen.masking import secret_watcher, window_lister
from supportdesk.capture.backends import Platform
from supportdesk.capture.mask_sources import WindowRuleMasks
from supportdesk.domain.mask_rules import MaskRules, WindowRule
from supportdesk.rfb.geometry import Rect

from .conftest import BackendUnderTest

try:
    from tests.desktop import wait_until
except ModuleNotFoundError:
    from desktop import wait_until  # type: ignore[no-redef,import-not-found]

SCRIPT = Path(__file__).with_name("macos_password_target.js")
TITLE = "Supportdesk Maskentest"


class JxaWindow:
    """The osascript child and the field rectangle it reported."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["osascript", "-l", "JavaScript", str(SCRIPT)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        ready: dict[str, Any] = wait_until(self._ready, 20.0, what="the osascript window")
        self.password: list[float] = ready["password"]

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def _ready(self) -> dict[str, Any] | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"osascript ended: {''.join(self.lines)}")
        for line in list(self.lines):
            if line.startswith("{"):
                return dict(json.loads(line)["ready"])
        return None

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def window(backend: BackendUnderTest) -> Iterator[JxaWindow]:
    target = JxaWindow()
    try:
        yield target
    finally:
        target.close()


def listed(masks: WindowRuleMasks) -> list[Rect]:
    """List the windows once; the masked rectangles."""
    masks.refresh()
    return [a.rect for a in masks.areas()]


def close_to(rect: Rect, ltrb: list[float], tolerance: float) -> bool:
    left, top, right, bottom = ltrb
    return (
        abs(rect.x - left) <= tolerance
        and abs(rect.y - top) <= tolerance
        and abs(rect.x + rect.width - right) <= tolerance
        and abs(rect.y + rect.height - bottom) <= tolerance
    )


def test_ax_finds_the_focused_secure_text_field_at_its_rectangle(
    backend: BackendUnderTest, window: JxaWindow
) -> None:
    backend.require("accessibility")
    watcher = secret_watcher(Platform.MACOS)
    assert watcher.start(), f"the AX probe did not start: {watcher.reason}"
    try:
        field = window.password
        found = wait_until(
            lambda: [a.rect for a in watcher.areas() if close_to(a.rect, field, 2)],
            10.0,
            what=f"the secure field {field} among {watcher.areas()}",
        )
        print("AX:", found, "AppKit:", field)
    finally:
        watcher.stop()


def test_a_window_rule_masks_the_window_by_owner(window: JxaWindow) -> None:
    # The owner's name needs no permission; the window belongs to osascript.
    masks = WindowRuleMasks(
        MaskRules("t", (WindowRule(application="osascript"),)), window_lister(Platform.MACOS)
    )
    rects = wait_until(lambda: listed(masks), 10.0, what="osascript's window")
    print("osascript's windows:", rects, "field:", window.password)
    left, top, right, bottom = window.password
    assert any(
        r.x <= left and r.y <= top and r.x + r.width >= right and r.y + r.height >= bottom
        for r in rects
    )


def test_a_window_rule_masks_the_window_by_title(
    backend: BackendUnderTest, window: JxaWindow
) -> None:
    backend.require("screen_recording")  # kCGWindowName is given only with it
    masks = WindowRuleMasks(
        MaskRules("t", (WindowRule(title="maskentest"),)), window_lister(Platform.MACOS)
    )
    rects = wait_until(lambda: listed(masks), 10.0, what=f"a window titled {TITLE}")
    print("windows titled like the target:", rects, "field:", window.password)
    left, top, right, bottom = window.password
    assert any(
        r.x <= left and r.y <= top and r.x + r.width >= right and r.y + r.height >= bottom
        for r in rects
    )
