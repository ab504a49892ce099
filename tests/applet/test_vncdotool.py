"""Proof with a real VNC client: vncdotool sees the Xvfb screen and types and clicks into an xterm.

The RFBSession runs with a real mss capture and XTest input on Xvfb; the test harness (only
the test listens) serves it on loopback TCP, and vncdotool connects as any viewer would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.capture.input_sink import XTestInputSink
from supportdesk.capture.screen_source import MssScreenSource
from tests.desktop import Desktop, wait_until, xvfb

from .harness import ThreadedServer

pytestmark = pytest.mark.desktop
api = pytest.importorskip("vncdotool.api", reason="vncdotool not installed (PyPI: vncdotool)")

# A shell in an xterm, so typed commands have an effect we can check on disk.
SHELL = ["sh", "-c", "PS1='$ ' exec sh"]
# xterm in X10 mouse mode reports a button press as ESC [ M b x y on its input.
CLICK_RECORDER = ["sh", "-c", "stty raw -echo; printf '\\033[?9h'; head -c 6 > click.bin"]


@dataclass
class Rig:
    desk: Desktop
    session: RFBSession
    client: Any
    workdir: Path
    shell_window: int
    clicks_window: int


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    workdir = tmp_path_factory.mktemp("vnc")
    with xvfb(1024, 768) as desk:
        _, shell = desk.xterm(SHELL, title="shell", geometry="80x20+0+0", cwd=str(workdir))
        _, clicks = desk.xterm(
            CLICK_RECORDER, title="clicks", geometry="40x10+600+450", cwd=str(workdir)
        )
        source = MssScreenSource(desk.display)
        sink = XTestInputSink(desk.display)
        session = RFBSession(source, sink, control=True)
        session.start()
        server = ThreadedServer(session)
        client = api.connect(f"127.0.0.1::{server.port}", timeout=10)
        try:
            yield Rig(desk, session, client, workdir, shell, clicks)
        finally:
            client.disconnect()
            server.close()
            sink.close()
            source.close()
            api.shutdown()


def vnc_screen(rig: Rig, path: Path) -> np.ndarray:
    rig.client.captureScreen(str(path))
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_the_viewer_sees_what_the_screen_shows(rig: Rig, tmp_path: Path) -> None:
    time.sleep(0.2)  # let the xterms finish drawing
    direct = rig.desk.screenshot()[:, :, 2::-1]
    seen = vnc_screen(rig, tmp_path / "screen.png")
    assert seen.shape == direct.shape
    # Raw is lossless: the picture must be exact (a blinking cursor would be the only excuse).
    differing = np.count_nonzero(np.any(seen != direct, axis=2))
    assert differing == 0, f"{differing} pixels differ"


def test_keys_type_a_command_into_the_xterm(rig: Rig, tmp_path: Path) -> None:
    rig.desk.focus(rig.shell_window)
    for char in "touch typed-over-vnc":
        rig.client.keyPress(char)
    rig.client.keyPress("enter")
    wait_until(lambda: (rig.workdir / "typed-over-vnc").exists(), what="the file typed over VNC")


def test_a_click_reaches_the_xterm(rig: Rig) -> None:
    x, y, _, _ = rig.desk.window_geometry(rig.clicks_window)
    rig.client.mouseMove(x + 40, y + 30)
    rig.client.mousePress(1)
    recorded = rig.workdir / "click.bin"
    wait_until(lambda: recorded.exists() and recorded.stat().st_size == 6, what="the click")
    report = recorded.read_bytes()
    assert report[:3] == b"\x1b[M" and report[3] == 32  # button 1 pressed


def test_without_control_keys_do_not_reach_the_xterm(rig: Rig, tmp_path: Path) -> None:
    rig.session.set_control(False)
    try:
        rig.desk.focus(rig.shell_window)
        for char in "touch must-not-exist":
            rig.client.keyPress(char)
        rig.client.keyPress("enter")
        vnc_screen(rig, tmp_path / "after.png")  # the keys were handled before this answer
        time.sleep(0.5)
        assert not (rig.workdir / "must-not-exist").exists()
        assert rig.session.stats.input_dropped >= 2 * len("touch must-not-exist")
    finally:
        rig.session.set_control(True)
