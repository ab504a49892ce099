"""The AT-SPI2 watcher on a real accessibility bus: a GTK password entry on Xvfb is found,
followed and masked in what the capture loop hands on; the window rules on real X windows."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from supportdesk.applet.screen.capture_loop import CaptureLoop
from supportdesk.capture.atspi_secrets import SecretFieldWatcher
from supportdesk.capture.mask import MaskKind, MaskPainter
from supportdesk.capture.mask_sources import WindowRuleMasks
from supportdesk.capture.screen_source import MssScreenSource
from supportdesk.capture.x11_windows import X11WindowLister
from supportdesk.domain.mask_rules import MaskRules, WindowRule
from supportdesk.rfb.geometry import Rect

from ..accessibility import GtkLogin, session_bus
from ..desktop import Desktop, wait_until

pytestmark = pytest.mark.desktop


def _rect(answer: str) -> Rect:
    word, *numbers = answer.split()
    assert word == "ok", answer
    x, y, w, h = (int(n) for n in numbers)
    return Rect(x, y, w, h)


def _a11y_enabled(address: str) -> bool:
    done = __import__("subprocess").run(
        ["dbus-send", f"--bus={address}", "--print-reply", "--dest=org.a11y.Bus",
         "/org/a11y/bus", "org.freedesktop.DBus.Properties.Get",
         "string:org.a11y.Status", "string:IsEnabled"],
        capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    return "boolean true" in done.stdout


def test_without_an_accessibility_bus_the_watcher_says_so_quickly() -> None:
    watcher = SecretFieldWatcher(session_bus="unix:path=/nonexistent/bus")
    started = time.monotonic()
    assert watcher.start(timeout=5) is False
    assert time.monotonic() - started < 5
    assert watcher.reason and watcher.areas() == []
    watcher.stop()


def test_a_focused_gtk_password_entry_is_tracked_and_followed(desktop: Desktop) -> None:
    env = desktop.env
    with session_bus(env) as address:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        watcher = SecretFieldWatcher(session_bus=address)
        assert watcher.start(), watcher.reason
        try:
            assert _a11y_enabled(address)  # turned on for the session ...
            with GtkLogin(env, "Anmeldung Online-Banking", 100, 80) as login:
                field = _rect(login.ask("pw"))
                wait_until(lambda: watcher.tracking == 1, what="password field tracked")
                (area,) = watcher.areas()
                assert area.kind is MaskKind.SECRET_INPUT
                assert abs(area.rect.x - field.x) <= 2 and abs(area.rect.y - field.y) <= 2
                assert abs(area.rect.width - field.width) <= 2
                # The window moves: the mask follows within a poll.
                login.ask("move 300 300")
                moved = _rect(login.ask("pw"))
                assert moved != field
                wait_until(
                    lambda: any(abs(a.rect.x - moved.x) <= 2 for a in watcher.areas())
                    and len(watcher.areas()) == 1,
                    timeout=2, what="mask follows the moved field",
                )  # fmt: skip
                # Focus goes to the user name: nothing is masked any more.
                login.ask("user")
                wait_until(lambda: watcher.tracking == 0, what="mask dropped")
        finally:
            watcher.stop()
        assert not _a11y_enabled(address)  # ... and put back afterwards


def test_the_capture_loop_masks_the_gtk_field_on_the_real_screen(desktop: Desktop) -> None:
    env = desktop.env
    with session_bus(env) as address:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        watcher = SecretFieldWatcher(session_bus=address)
        assert watcher.start(), watcher.reason
        source = MssScreenSource(desktop.display)
        ready = threading.Event()
        painter = MaskPainter("Geschützte Eingabe")
        loop = CaptureLoop(source, 0, on_delta=ready.set, masks=watcher, painter=painter)
        try:
            with GtkLogin(env, "Anmeldung", 60, 60) as login:
                field = _rect(login.ask("pw"))
                login.ask("type 12345")
                wait_until(lambda: watcher.tracking == 1, what="password field tracked")
                loop.start()
                loop.want(True)
                assert ready.wait(5)
                delta = loop.take()
                assert delta is not None
                (r,) = loop.mask_rects
                assert r.x <= field.x - 4 and r.right >= field.right + 4
                assert r.y <= field.y - 4 and r.bottom >= field.bottom + 4
                expected = painter.paint(np.zeros_like(delta.frame), [r])
                got = delta.frame[r.y : r.bottom, r.x : r.right, :3]
                assert np.array_equal(got, expected[r.y : r.bottom, r.x : r.right, :3])
                # the rest of the window is visible: the user name entry is not masked
                screen = desktop.screenshot()
                above = slice(field.y - 60, field.y - 20), slice(field.x, field.right)
                assert np.array_equal(delta.frame[above][:, :, :3], screen[above][:, :, :3])
        finally:
            loop.stop()
            source.close()
            watcher.stop()


def test_a_window_matching_a_title_rule_is_masked_whole(desktop: Desktop) -> None:
    env = desktop.env
    with session_bus(env) as address:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        with GtkLogin(env, "SecureGo plus", 400, 200), GtkLogin(env, "Notizen", 0, 0):
            rules = MaskRules("t1", (WindowRule(title="securego"),))
            masks = WindowRuleMasks(rules, X11WindowLister(desktop.display))
            masks.refresh()
            (area,) = masks.areas()
            assert area.kind is MaskKind.WINDOW_RULE
            assert (area.rect.x, area.rect.y) == (400, 200)
            assert area.rect.width >= 400 and area.rect.height >= 200


LOGIN_PAGE = """<!doctype html><html lang="de"><head><meta charset="utf-8">
<title>Online-Banking Anmeldung</title></head>
<body style="margin:40px;font:20px sans-serif">
<h1>Online-Banking</h1>
<p><label>Anmeldename <input id="user" value="kunde4711"></label></p>
<p><label>PIN <input id="pin" type="password" autofocus></label></p>
</body></html>"""


def test_a_focused_chromium_password_field_is_tracked(desktop: Desktop, tmp_path) -> None:
    """Chromium exposes <input type=password> as a password text when accessibility is on."""
    import shutil
    import subprocess

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not installed (Debian: chromium)")
    page = tmp_path / "login.html"
    page.write_text(LOGIN_PAGE, "utf-8")
    env = desktop.env
    with session_bus(env) as address:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        watcher = SecretFieldWatcher(session_bus=address)
        assert watcher.start(), watcher.reason
        browser = subprocess.Popen(
            [chromium, "--no-sandbox", "--no-first-run", "--force-renderer-accessibility",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-position=0,0",
             "--window-size=900,600", "--disable-gpu", f"file://{page}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            window = desktop.window_titled("Online-Banking", within=30)
            assert window is not None, "chromium did not show the page"
            desktop.focus(window)
            wait_until(lambda: watcher.tracking == 1, timeout=20, what="chromium field tracked")
            (area,) = watcher.areas()
            assert area.kind is MaskKind.SECRET_INPUT
            assert 0 < area.rect.width < 400 and 0 < area.rect.height < 80
            assert 0 <= area.rect.x < 900 and 0 < area.rect.y < 600
            # The user name gets the focus (Tab backwards): the mask goes.
            desktop.run("xdotool", "key", "--window", str(window), "shift+Tab")
            wait_until(lambda: watcher.tracking == 0, timeout=5, what="mask dropped")
        finally:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
            watcher.stop()
