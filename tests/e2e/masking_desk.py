"""The customer's desktop and the parties of the masking end-to-end tests
(tests/e2e/test_masking.py): the desktop with its session bus, the support program in
text or window mode, the agent's canvas awaited, the session's verified recording."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.async_api import Page

from supportdesk.recording import verify
from tests.desktop import Desktop, require_tool
from tests.e2e.masking_pictures import Box, Picture, canvas_picture, screen_rgb
from tests.e2e.test_live_session import ARTIFACTS
from tests.e2e.test_window_chat import ROOT
from tests.live_server import LiveServer

CANVAS_WAIT = 10.0
"""Seconds the agent's canvas may take to show a change (a loaded machine is slow)."""


@dataclass
class Screen:
    """The customer's desktop and the environment its programs run in (its session bus)."""

    desktop: Desktop
    env: dict[str, str]

    def xdotool(self, *args: str) -> None:
        subprocess.run(
            [require_tool("xdotool"), *args], env=self.env, check=True, timeout=20,
            capture_output=True,
        )  # fmt: skip

    def picture(self) -> Picture:
        return screen_rgb(self.desktop.screenshot())


async def on_screen(page: Page, screen: Screen, selector: str) -> Box:
    """Where an element of the customer's page is on the X screen: the page's magenta
    corner shows where the page starts below the browser's bar."""
    picture = screen.picture()
    ys, xs = np.nonzero((picture == (255, 0, 255)).all(axis=2))
    assert len(xs), "the page's corner is not on the screen"
    box = await page.locator(selector).bounding_box()
    assert box is not None
    x, y = int(xs.min() + box["x"]), int(ys.min() + box["y"])
    return Box(x, y, int(box["width"]), int(box["height"]))


def start_program(
    server: LiveServer, token: str, screen: Screen, home: Path
) -> subprocess.Popen[str]:
    env = {**screen.env, "HOME": str(home), "XDG_DOCUMENTS_DIR": str(home / "Dokumente")}
    return subprocess.Popen(
        [sys.executable, "-m", "supportdesk", "join", "--server", server.url,
         f"--token={token}", "--text", "--ca-file", str(server.workdir / "cert.pem")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=env, text=True, bufsize=1,
    )  # fmt: skip


async def canvas_until(page: Page, wanted: Callable[[Picture], bool], what: str) -> Picture:
    """The agent's canvas once ``wanted(picture)`` holds (noVNC draws as updates come)."""
    deadline = time.monotonic() + CANVAS_WAIT
    while True:
        picture = await canvas_picture(page)
        if wanted(picture):
            return picture
        if time.monotonic() > deadline:
            name = what.replace(" ", "-")
            Image.fromarray(picture).save(ARTIFACTS / f"masking-{name}.png")
            raise AssertionError(f"the agent's canvas never showed {what}")
        await asyncio.sleep(0.05)


def verified_recording(server: LiveServer, entries: list[dict[str, Any]]) -> tuple[Path, bytes]:
    """The session's recording and its key, once it verifies against the audited hash."""
    (finished,) = [e["data"] for e in entries if e["event_type"] == "recording_finished"]
    path = server.workdir / "var" / "recordings" / finished["file"]
    master_key = bytes.fromhex((server.workdir / "keys" / "recording-master.key").read_text())
    report = verify(path, master_key, finished["final_hash"])
    assert report.ok and report.closed_cleanly, report
    return path, master_key


def start_window_program(
    server: LiveServer, token: str, screen: Screen, home: Path
) -> subprocess.Popen[str]:
    """The program in window mode, its window reporting what it shows (join_tk_child.py)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.join_tk_child", server.url, token,
         str(server.workdir / "cert.pem")],
        cwd=ROOT, env={**screen.env, "HOME": str(home)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


async def click(screen: Screen, where: list[int]) -> None:
    x, y = (str(n) for n in where)
    screen.xdotool("mousemove", "--sync", x, y, "click", "1")


def since(start: datetime, at: datetime) -> int:
    return int((at - start).total_seconds() * 1e6)
