"""A desktop's accessibility bus for tests: a private D-Bus session bus on an Xvfb display,
and real toolkit windows with a password field (GTK 3, through Debian's python3-gi).

The session bus is a ``dbus-daemon --session`` of our own; asking it for ``org.a11y.Bus``
starts Debian's ``at-spi-bus-launcher`` (package at-spi2-core) by D-Bus activation, as on
a customer's desktop. Everything started here ends with the bus.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
BUS_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
SYSTEM_PYTHON = "/usr/bin/python3"


def require_accessibility() -> None:
    """Skip, naming the Debian packages, if the accessibility stack is missing."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon not installed (Debian: dbus-daemon)")
    if not os.path.exists(BUS_LAUNCHER):
        pytest.skip("at-spi-bus-launcher not installed (Debian: at-spi2-core)")


def require_gtk() -> None:
    """Skip unless the system Python has GTK 3 (Debian: python3-gi gir1.2-gtk-3.0)."""
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Gtk', '3.0')"],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip("GTK 3 for Python not installed (Debian: python3-gi gir1.2-gtk-3.0)")


@contextlib.contextmanager
def session_bus(env: dict[str, str]) -> Iterator[str]:
    """Run a private session bus for the display in ``env``; yield its address."""
    require_accessibility()
    # The bus launcher keeps "accessibility on" in GSettings, which outlives the bus: in
    # memory here, so a test neither sees nor leaves the machine's setting.
    env["GSETTINGS_BACKEND"] = "memory"
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address, "dbus-daemon printed no address"
        yield address
    finally:
        proc.terminate()
        proc.wait(5)


class GtkLogin:
    """A GTK window with a user and a password entry, driven over its stdin."""

    def __init__(self, env: dict[str, str], title: str, x: int, y: int) -> None:
        require_gtk()
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(HERE / "gtk_login_window.py"), title, str(x), str(y)],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.ask("").startswith("ready"), "the GTK window did not start"

    def ask(self, command: str) -> str:
        """Send one command (pw, user, type TEXT, move X Y) and return the window's answer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if command:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ask("quit")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> GtkLogin:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
