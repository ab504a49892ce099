"""The backends this OS has, and the Tk target window, for the conformance suite.

One suite, every backend: on Linux the X11 backend on a fresh Xvfb desktop (marked
``desktop``); on Windows and macOS their own backend on the runner's desktop (the
workflow ``.github/workflows/applet-platforms.yml``). macOS hosted runners may not
have granted Screen Recording or Accessibility to the Python that runs the tests: a
test that needs a missing permission is reported as an expected failure that says
so, never passed, and never failed with a wrong picture as its only explanation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from supportdesk.capture.backends import Backend, Platform, backend_for

try:
    from tests.desktop import requires_xvfb, wait_until
except ModuleNotFoundError:
    from desktop import requires_xvfb, wait_until  # type: ignore[no-redef,import-not-found]

TARGET = Path(__file__).with_name("tk_target.py")
ROOT = Path(__file__).resolve().parents[3]

# Tests of one OS's own desktop APIs are not collected elsewhere (never listed as skips
# that read like passes): the masking probes and window lists of Windows and macOS.
collect_ignore = [
    name
    for name, platform in (
        ("test_masking_windows.py", "win32"),
        ("test_masking_macos.py", "darwin"),
    )
    if sys.platform != platform
]


def _platforms() -> list[Any]:
    if sys.platform == "win32":
        return [pytest.param(Platform.WINDOWS, id="windows")]
    if sys.platform == "darwin":
        return [pytest.param(Platform.MACOS, id="macos")]
    return [pytest.param(Platform.X11, id="x11", marks=[pytest.mark.desktop, requires_xvfb])]


@dataclass
class BackendUnderTest:
    """One platform's backend, on a desktop a Tk target can be shown on."""

    platform: Platform
    backend: Backend
    env: dict[str, str]
    tolerance: int  # per colour channel: 0 where capture is exact
    missing: dict[str, str] = field(default_factory=dict)  # permission -> plain reason

    def require(self, permission: str) -> None:
        """Report, not fail, a test the runner's missing permission makes meaningless."""
        if permission in self.missing:
            pytest.xfail(self.missing[permission])


@pytest.fixture(params=_platforms())
def backend(request: pytest.FixtureRequest) -> Iterator[BackendUnderTest]:
    platform: Platform = request.param
    if platform is Platform.X11:
        desk = request.getfixturevalue("desktop")
        # The bank's customers' layout, which has every character of the typed text. On
        # a US layout the X11 sink binds spare keycodes, and a client may read the first
        # such key with its old, empty mapping (docs/applet.md, "Platform backends").
        desk.run("setxkbmap", "de")
        yield BackendUnderTest(platform, backend_for(platform, display=desk.display), desk.env, 0)
        return
    env = dict(os.environ)
    missing: dict[str, str] = {}
    tolerance = 2
    if platform is Platform.MACOS:
        from supportdesk.capture.macos_permissions import check_permissions

        tolerance = 48  # capture is colour-matched to the display profile
        granted = check_permissions(ask=False)
        if not granted.screen_recording:
            missing["screen_recording"] = (
                "macOS has not granted Screen Recording to this Python: capture shows only "
                "the wallpaper; hosted runners cannot grant it, so capture is unproven here"
            )
        if not granted.accessibility:
            missing["accessibility"] = (
                "macOS has not granted Accessibility to this Python: posted input is dropped; "
                "hosted runners cannot grant it, so input is unproven here"
            )
    yield BackendUnderTest(platform, backend_for(platform), env, tolerance, missing)


class Target:
    """A target window in a child process (the Tk one unless ``script`` says), and what
    it reported."""

    def __init__(self, env: dict[str, str], script: Path = TARGET) -> None:
        env = {**env, "PYTHONPATH": str(ROOT / "src")}
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        ready = self.wait_for(lambda line: "ready" in line, what="the target window")
        self.layout: dict[str, list[int]] = ready["ready"]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(json.loads(line))

    def seen(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.lines)

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool], *, after: int = 0, what: str = "a report"
    ) -> dict[str, Any]:
        """The first line from index ``after`` on that ``match``es (waits up to 10 s)."""

        def found() -> dict[str, Any] | None:
            if self.process.poll() is not None:
                err = self.process.stderr.read() if self.process.stderr else ""
                raise RuntimeError(f"the target window ended: {err}")
            return next((line for line in self.seen()[after:] if match(line)), None)

        result: dict[str, Any] = wait_until(found, 10.0, what=what)
        return result

    def ask(self, command: str, reply: str, **data: object) -> Any:
        mark = len(self.seen())
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": command, **data}) + "\n")
        self.process.stdin.flush()
        return self.wait_for(lambda line: reply in line, after=mark, what=reply)[reply]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def target(backend: BackendUnderTest) -> Iterator[Target]:
    window = Target(backend.env)
    try:
        yield window
    finally:
        window.close()
