"""Real X desktops for tests: start Xvfb on a free display, start xterms, take screenshots.

Use the ``desktop`` fixture (re-exported by a conftest) or :func:`xvfb` directly::

    with xvfb(1280, 800) as desk:
        term = desk.xterm(["sh", "-c", "cat > out.txt"])
        pixels = desk.screenshot()

Xvfb picks the display number itself (``-displayfd``), so parallel runs never collide;
it runs with ``-noreset`` because an X server that resets when its last client leaves
also forgets ``setxkbmap`` and ``xrandr --setmonitor`` changes.  Screenshots are taken
with python-xlib's GetImage, independently of mss.  Tests skip only when Xvfb itself
is missing; other tools (xterm, setxkbmap, xrandr, xdotool) are required by the tests
that use them and skip with the Debian package to install.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

XVFB = shutil.which("Xvfb")
DEBIAN_PACKAGE = {
    "Xvfb": "xvfb",
    "xterm": "xterm",
    "setxkbmap": "x11-xkb-utils",
    "xrandr": "x11-xserver-utils",
    "xsetroot": "x11-xserver-utils",
    "xdotool": "xdotool",
    "xclip": "xclip",
}

requires_xvfb = pytest.mark.skipif(XVFB is None, reason="Xvfb not installed (Debian: xvfb)")


def require_tool(name: str) -> str:
    """Return the path of X tool ``name``, or skip the test naming its Debian package."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (Debian: {DEBIAN_PACKAGE.get(name, name)})")
    return path


def wait_until(predicate: Any, timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll ``predicate`` every 20 ms until it returns a truthy value; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class Desktop:
    """A running Xvfb server and the X clients started on it."""

    display: str
    width: int
    height: int
    process: subprocess.Popen[bytes]
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """Environment for X clients on this desktop (UTF-8 locale)."""
        env = dict(os.environ)
        env.update(DISPLAY=self.display, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        env.pop("XAUTHORITY", None)
        return env

    def run(self, *cmd: str, timeout: float = 10.0) -> str:
        """Run an X tool (e.g. ``xsetroot``) on this display and return its stdout."""
        require_tool(cmd[0])
        done = subprocess.run(
            cmd, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{cmd} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def connect(self) -> Any:
        """Open a python-xlib connection to this display (close it when done)."""
        from Xlib import display as xdisplay

        return xdisplay.Display(self.display)

    def screenshot(self) -> npt.NDArray[np.uint8]:
        """Grab the root window with X GetImage as an (H, W, 4) BGRX array."""
        from Xlib import X

        d = self.connect()
        try:
            root = d.screen().root
            image = root.get_image(0, 0, self.width, self.height, X.ZPixmap, 0xFFFFFFFF)
            data = np.frombuffer(image.data, dtype=np.uint8)
            return data.reshape(self.height, self.width, 4).copy()
        finally:
            d.close()

    def find_window(self, title: str) -> int | None:
        """Return the id of a mapped top-level window called ``title``, if any."""
        from Xlib import X

        d = self.connect()
        try:
            for win in d.screen().root.query_tree().children:
                try:
                    if (
                        win.get_wm_name() == title
                        and win.get_attributes().map_state == X.IsViewable
                    ):
                        return int(win.id)
                except Exception:  # window vanished while we looked
                    continue
            return None
        finally:
            d.close()

    def window_titled(self, pattern: str, within: float = 0.0) -> int | None:
        """A mapped window whose title matches ``pattern`` (a regular expression, matched
        byte-wise: spell no "ö" in it), waiting up to ``within`` seconds. xdotool also
        reads _NET_WM_NAME, where Tk puts a title that Latin-1 cannot hold ("–")."""
        deadline = time.monotonic() + within
        while True:
            found = subprocess.run(
                [require_tool("xdotool"), "search", "--onlyvisible", "--name", pattern],
                env=self.env, capture_output=True, text=True, timeout=10, check=False,
            )  # fmt: skip
            ids = found.stdout.split()
            if ids or time.monotonic() >= deadline:
                return int(ids[0]) if ids else None
            time.sleep(0.1)

    def close_window(self, window: int) -> None:
        """WM_DELETE_WINDOW, as a window manager sends it when the close button is clicked."""
        from Xlib import X
        from Xlib.protocol import event

        d = self.connect()
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

    def window_geometry(self, window: int) -> tuple[int, int, int, int]:
        """Return ``(x, y, width, height)`` of a top-level window in root coordinates."""
        d = self.connect()
        try:
            g = d.create_resource_object("window", window).get_geometry()
            return int(g.x), int(g.y), int(g.width), int(g.height)
        finally:
            d.close()

    def focus(self, window: int) -> None:
        """Give ``window`` the keyboard focus (there is no window manager)."""
        from Xlib import X

        d = self.connect()
        try:
            d.set_input_focus(d.create_resource_object("window", window), X.RevertToPointerRoot, 0)
            d.sync()
        finally:
            d.close()

    def xterm(
        self,
        command: Sequence[str],
        *,
        title: str = "supportdesk-test",
        geometry: str = "80x24+0+0",
        cwd: str | None = None,
    ) -> tuple[subprocess.Popen[bytes], int]:
        """Start ``xterm -e command`` and wait until its window is mapped.

        Returns the process and the window id.  The xterm is killed when the desktop
        stops if it is still running.
        """
        xterm = require_tool("xterm")
        args = [xterm, "-u8", "-T", title, "-geometry", geometry, "+sb", "-e", *command]
        proc = subprocess.Popen(
            args, env=self.env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.children.append(proc)
        try:
            window = wait_until(lambda: self.find_window(title), what=f"xterm {title!r}")
        except TimeoutError:
            proc.kill()
            _, err = proc.communicate()
            raise RuntimeError(f"xterm did not map: {err.decode(errors='replace')}") from None
        return proc, int(window)

    def stop(self) -> None:
        """Kill the clients, then the server."""
        for child in self.children:
            _terminate(child)
        _terminate(self.process)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def xvfb(
    width: int = 1280,
    height: int = 800,
    depth: int = 24,
    *,
    extra_args: Sequence[str] = (),
    timeout: float = 10.0,
) -> Iterator[Desktop]:
    """Start Xvfb on a display number it chooses itself; yield once it accepts clients."""
    if XVFB is None:
        pytest.skip("Xvfb not installed (Debian: xvfb)")
    read_fd, write_fd = os.pipe()
    args = [
        XVFB,
        "-displayfd", str(write_fd),
        "-screen", "0", f"{width}x{height}x{depth}",
        "-nolisten", "tcp",
        "-noreset",
        *extra_args,
    ]  # fmt: skip
    proc = subprocess.Popen(
        args, pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + timeout
        while not number.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([read_fd], [], [], max(left, 0))
            chunk = os.read(read_fd, 16) if ready else b""
            if not chunk:
                _terminate(proc)
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"Xvfb did not start: {err[-2000:]}")
            number += chunk
    finally:
        os.close(read_fd)
    desk = Desktop(f":{int(number)}", width, height, proc)
    try:
        yield desk
    finally:
        desk.stop()


@pytest.fixture
def desktop() -> Iterator[Desktop]:
    """A fresh 1280x800x24 Xvfb desktop for one test."""
    with xvfb(1280, 800, 24) as desk:
        yield desk
