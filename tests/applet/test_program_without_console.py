"""A windowed build started by a double click has no standard output or error: what
the program would print must reach the customer in a window instead.

The program runs in a child whose file descriptors 1 and 2 are closed before Python
starts, as Windows starts a windowed program: ``sys.stdout`` and ``sys.stderr`` are
None there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desktop import Desktop
from tests.diagnostics.tls_server import closed_port

pytestmark = pytest.mark.desktop
ROOT = Path(__file__).resolve().parents[2]


def _program(desk: Desktop, *, console: bool) -> subprocess.Popen[bytes]:
    def without_console() -> None:
        os.close(1)
        os.close(2)

    server = f"https://127.0.0.1:{closed_port()}"
    return subprocess.Popen(
        [sys.executable, "-m", "supportdesk.applet", "--server", server, "--token", "t" * 43],
        cwd=ROOT, env=desk.env,
        stdout=subprocess.PIPE if console else None,
        stderr=subprocess.PIPE if console else None,
        preexec_fn=None if console else without_console,
    )  # fmt: skip


def test_without_a_console_the_reason_it_stopped_is_shown_in_a_window(desktop: Desktop) -> None:
    program = _program(desktop, console=False)
    try:
        # "Fernwartung nicht möglich" (xdotool's pattern is matched byte-wise: no "ö").
        window = desktop.window_titled("^Fernwartung nicht m", 30)
        assert window is not None, "no window said why the program stopped"
        assert program.poll() is None  # it waits for the customer to read it
        desktop.close_window(window)
        assert program.wait(10) == 2
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()


def test_with_a_console_it_says_so_there_and_opens_no_window(desktop: Desktop) -> None:
    program = _program(desktop, console=True)
    _, err = program.communicate(timeout=30)
    assert program.returncode == 2
    assert err.decode().startswith("supportdesk-join: ")
    assert desktop.window_titled("^Fernwartung nicht m", 0.5) is None
