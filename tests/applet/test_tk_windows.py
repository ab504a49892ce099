"""The Tk windows for real on Xvfb, clicked with xdotool (consent dialog, active window)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.desktop import Desktop, require_tool

pytestmark = pytest.mark.desktop
ROOT = Path(__file__).resolve().parents[2]


class Child:
    """The tk_child.py process on the test desktop."""

    def __init__(self, desk: Desktop, mode: str) -> None:
        self.desk = desk
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.applet.tk_child", mode],
            cwd=ROOT, env=desk.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.layout = self.read()

    def read(self, timeout: float = 10.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout)
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"child ended without output: {err}")
        data: dict[str, Any] = json.loads(line)
        return data

    def click(self, name: str) -> None:
        x, y = self.layout[name]
        self.desk.run(require_tool("xdotool"), "mousemove", "--sync", str(x), str(y), "click", "1")

    def result(self) -> dict[str, Any]:
        data = self.read()
        assert self.proc.wait(10) == 0
        return data


def send_wm_delete(desk: Desktop, window: int) -> None:
    """What a window manager does when the customer clicks the window's close button."""
    from Xlib import X
    from Xlib.protocol import event

    d = desk.connect()
    try:
        win = d.create_resource_object("window", window)
        protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
        message = event.ClientMessage(
            window=win, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        win.send_event(message, event_mask=X.NoEventMask)
        d.sync()
    finally:
        d.close()


def test_ja_with_control_ticked(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    child.click("control")
    child.click("yes")
    assert child.result() == {"decision": "given", "capabilities": ["control", "view"]}


def test_the_required_view_box_cannot_be_unticked(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    child.click("view")
    child.click("yes")
    assert child.result() == {"decision": "given", "capabilities": ["view"]}


def test_nein_declines(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    child.click("control")
    child.click("no")
    assert child.result() == {"decision": "declined", "capabilities": []}


def test_closing_the_window_declines(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    child.click("control")
    send_wm_delete(desktop, child.layout["window"])
    assert child.result() == {"decision": "declined", "capabilities": []}


def test_active_window_buttons_and_end_within_one_second(desktop: Desktop) -> None:
    child = Child(desktop, "active")
    child.click("pause")
    child.click("control")
    clicked = time.monotonic()
    child.click("end")
    result = child.result()
    assert result["stopped_at"] is not None
    assert result["stopped_at"] - clicked < 1.0
    assert result["capturing"] is False
    assert result["grabs_after_stop"] == 0
    assert result["paused"] is True and result["control"] is False
