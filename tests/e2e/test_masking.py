"""Masking end to end: what the customer's PC hides never reaches the agent or the recording.

On Xvfb with a private accessibility bus (tests/accessibility.py): the real server with
a window rule for "SecureGo" and recording on, the support program in text mode sharing
the screen, the agent's headless Chromium on the live page through the real relay. On the
customer's desktop: a bank-like login page in a headful Chromium with
``--force-renderer-accessibility``, a GTK login window and a window titled like a TAN
generator. The secret is typed with xdotool, as a customer types it. The agent's canvas
and every frame of the recording, decoded from the channel's first byte, are checked
pixel by pixel against the mask's pattern (tests/e2e/masking_pictures.py).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Browser, Page, async_playwright, expect

from supportdesk.recording import RecordingReader
from supportdesk.recording.timeline import MarkKind, timeline
from tests.accessibility import GtkLogin, require_gtk, session_bus
from tests.desktop import xvfb
from tests.e2e.masking_desk import (
    Screen,
    canvas_until,
    click,
    on_screen,
    since,
    start_program,
    start_window_program,
    verified_recording,
)
from tests.e2e.masking_pictures import (
    Box,
    canvas_picture,
    difference,
    is_masked,
    recorded_frames,
    typed_marks,
)
from tests.e2e.test_live_session import ARTIFACTS, PASSWORD, agent_page, new_session_joined
from tests.e2e.test_recorded_session import audit_entries
from tests.e2e.test_window_chat import Window
from tests.live_server import CHROMIUM, LiveServer, add_agent, live_server, self_signed_certificate

pytestmark = [pytest.mark.desktop, pytest.mark.browser]

RULES = """
[masking]
rules_version = "2026-12-e2e"
windows = [{ title = "SecureGo" }]
"""
LOGIN_PAGE = """<!doctype html><html lang="de"><head><meta charset="utf-8">
<title>Online-Banking Anmeldung</title>
<style>body { margin: 0; font: 20px sans-serif; background: #fff; }
#corner { position: absolute; left: 0; top: 0; width: 16px; height: 16px; background: #f0f; }
input { font: 20px sans-serif; width: 220px; }</style></head>
<body><div id="corner"></div><div style="padding: 40px">
<h1>Online-Banking</h1><p>Bitte melden Sie sich an.</p>
<p><label>Anmeldename <input id="user" value="kunde4711"></label></p>
<p><label>PIN <input id="pin" type="password"></label></p></div></body></html>"""
PIN, GTK_PIN, AGENT_TYPED = "80471163", "25806", "999"
PRIVACY_NOTICE = (
    "Sichtschutz an: Der Kunde gibt etwas Vertrauliches ein. Sitzung und Chat laufen weiter."
)
PAUSE_BEFORE_TYPING = 0.3
"""A person clicks into a field, then types: the first key comes this long after the click."""


@pytest.fixture(scope="module")
def screen() -> Iterator[Screen]:
    with xvfb(1280, 800, 24) as desk:
        env = desk.env
        with session_bus(env) as address:
            env["DBUS_SESSION_BUS_ADDRESS"] = address
            yield Screen(desk, env)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("masking-e2e")
    (folder / "masking.toml").write_text(RULES, "utf-8")
    tls = self_signed_certificate(folder)
    with live_server(folder, tls=tls, SUPPORTDESK_CONFIG=str(folder / "masking.toml")) as running:
        add_agent(running, "Anna Berger", PASSWORD)
        yield running


@pytest.fixture
async def bank_page(screen: Screen) -> AsyncIterator[Page]:
    """The customer's Chromium on the desktop (headful, accessibility on) with the login page."""
    async with async_playwright() as playwright:
        customer = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=False, env=screen.env,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--force-renderer-accessibility", "--window-position=0,0",
                  "--window-size=700,560"],
        )  # fmt: skip
        page = await (await customer.new_context(no_viewport=True)).new_page()
        await page.set_content(LOGIN_PAGE)
        try:
            yield page
        finally:
            await customer.close()


async def test_secret_fields_and_rule_windows_never_reach_the_agent_or_the_recording(
    screen: Screen, server: LiveServer, browser: Browser, bank_page: Page, tmp_path: Path
) -> None:
    require_gtk()
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        GtkLogin(screen.env, "SecureGo TAN", 760, 440),
        GtkLogin(screen.env, "Anmeldung Programm", 760, 40) as gtk,
    ):
        rule_window = screen.desktop.window_titled("SecureGo", within=5)
        assert rule_window is not None
        rule_box = Box(*screen.desktop.window_geometry(rule_window))
        chromium = screen.desktop.window_titled("Online-Banking", within=10)
        assert chromium is not None
        pin, user = (
            await on_screen(bank_page, screen, "#pin"),
            await on_screen(bank_page, screen, "#user"),
        )
        heading = await on_screen(bank_page, screen, "h1")

        page = await agent_page(browser, server)
        number, token = await new_session_joined(page, server)
        home = tmp_path / "home"
        home.mkdir()
        program = start_program(server, token, screen, home)
        try:
            assert program.stdin is not None
            program.stdin.write("j\nn\nn\nJa\n")  # control yes, files no, diagnostics no
            program.stdin.flush()
            await page.goto(f"{server.url}/console/sessions/{number}/live")
            live, notice = page.locator("[data-live]"), page.locator("[data-notice]")
            await expect(live).to_have_attribute("data-viewer", "connected", timeout=30000)
            await expect(live).to_have_attribute("data-control", "yes")

            # The TAN generator's window is masked whole; the login page is visible.
            shown = await canvas_until(
                page, lambda p: is_masked(p, rule_box.inset(1)), "the rule's window masked"
            )
            assert shown.shape[:2] == (800, 1280)
            direct = screen.picture()
            assert difference(shown, direct, heading) < 6, "the page's heading is visible"
            assert not is_masked(shown, pin) and not is_masked(shown, user)

            # The customer clicks into the PIN field and types: the agent sees the mask.
            screen.desktop.focus(chromium)
            cx, cy = pin.x + pin.width // 2, pin.y + pin.height // 2
            focused_at = datetime.now(UTC)
            screen.xdotool("mousemove", "--sync", str(cx), str(cy), "click", "1")
            await asyncio.sleep(PAUSE_BEFORE_TYPING)
            typing_at = datetime.now(UTC)
            screen.xdotool("type", "--delay", "60", PIN)
            assert await bank_page.locator("#pin").input_value() == PIN
            typed_field = screen.picture()  # the field as it is on the screen: dots
            assert not is_masked(typed_field, pin), "the unmasked field is told apart"
            shown = await canvas_until(page, lambda p: is_masked(p, pin), "the PIN field masked")
            Image.fromarray(shown).save(ARTIFACTS / "masking-canvas.png")
            assert difference(shown, typed_field, pin) > 20
            assert is_masked(shown, rule_box.inset(1))
            assert difference(shown, screen.picture(), heading) < 6, "the rest stays visible"
            await expect(notice).to_have_text("Geschützte Eingabe – für den Berater ausgeblendet")

            # The agent's click and keys while the field has the focus are dropped.
            canvas = page.locator("[data-screen] canvas")
            scale = await canvas.evaluate("c => c.getBoundingClientRect().width / c.width")
            frame = await canvas.bounding_box()
            assert frame is not None
            await page.mouse.click(frame["x"] + cx * scale, frame["y"] + cy * scale)
            await page.keyboard.type(AGENT_TYPED, delay=40)
            await asyncio.sleep(1.5)
            assert await bank_page.locator("#pin").input_value() == PIN

            # Focus leaves (the customer clicks the user name): the mask goes.
            blurred_at = datetime.now(UTC)
            ux, uy = user.x + user.width - 10, user.y + user.height // 2
            screen.xdotool("mousemove", "--sync", str(ux), str(uy), "click", "1")
            await canvas_until(
                page, lambda p: difference(p, screen.picture(), pin) < 6, "the PIN field unmasked"
            )
            unmasked_after = (datetime.now(UTC) - blurred_at).total_seconds()
            left_field = screen.picture()  # the field unfocused, its dots shown
            # (The notice stays: the rule's window is still masked.)
            # The agent's keys reach an unmasked field: the drop above was the mask's.
            await page.mouse.click(frame["x"] + ux * scale, frame["y"] + uy * scale)
            await page.keyboard.type("X", delay=40)
            await expect(bank_page.locator("#user")).to_have_value(re.compile("X$"))

            # A GTK password entry, the same way.
            gtk_focused_at = datetime.now(UTC)
            gtk_field = Box(*(int(n) for n in gtk.ask("pw").split()[1:]))
            await asyncio.sleep(PAUSE_BEFORE_TYPING)
            gtk_typing_at = datetime.now(UTC)
            screen.xdotool("type", "--delay", "60", GTK_PIN)
            gtk_typed = screen.picture()
            assert not is_masked(gtk_typed, gtk_field)
            await canvas_until(page, lambda p: is_masked(p, gtk_field), "the GTK entry masked")
            gtk_blurred_at = datetime.now(UTC)
            gtk.ask("user")
            await canvas_until(
                page,
                lambda p: difference(p, screen.picture(), gtk_field) < 6,
                "the GTK entry unmasked",
            )
            await asyncio.sleep(0.5)
            program.stdin.write("e\n\n")  # end; an empty line skips the exit survey
            program.stdin.flush()
            await expect(live).to_have_attribute("data-state", "ended", timeout=5000)
            output, _ = program.communicate(timeout=20)
        finally:
            if program.poll() is None:
                program.kill()
                program.wait(5)
            await page.context.close()
    assert program.returncode == 0, output
    print(f"the agent's canvas showed the PIN field unmasked {unmasked_after * 1000:.0f} ms "
          "after the click that took the focus away")  # fmt: skip

    # The recording verifies, and no frame of it shows what was typed.
    entries = await asyncio.to_thread(audit_entries, server, number)
    changes = [
        (e["event_type"].removeprefix("session.masking_"), e["data"]["kinds"])
        for e in entries
        if e["event_type"] in ("session.masking_started", "session.masking_stopped")
    ]
    assert changes[:5] == [
        ("started", ["window_rule"]),
        ("started", ["secret_input"]),
        ("stopped", ["secret_input"]),
        ("started", ["secret_input"]),
        ("stopped", ["secret_input"]),
    ], changes
    path, master_key = verified_recording(server, entries)
    with RecordingReader(path, master_key) as reader:
        start = reader.started_at
        channel = max(reader.index.channel_starts)  # the agent's viewer
        frames = list(recorded_frames(reader, channel))
        events = list(reader.events())
    marks = timeline(events)
    secret_spans = [
        (pin, since(start, typing_at), since(start, blurred_at), typed_field),
        (gtk_field, since(start, gtk_typing_at), since(start, gtk_blurred_at), gtk_typed),
    ]
    assert len(frames) > 10
    for at_us, picture in frames:
        assert is_masked(picture, rule_box.inset(1)), f"the rule's window shows at {at_us} µs"
    # What a player shows while a secret was typed: the frame in effect when typing
    # began (the last one before it) and every frame until the focus left. Each has the
    # field masked, or shows it without a typed character (focused before the mask came).
    for field, typed_us, left_us, typed in secret_spans:
        assert typed_marks(typed, field) > 0, "the dots on the screen are seen"
        shown_then = [
            (at_us, picture)
            for i, (at_us, picture) in enumerate(frames)
            if typed_us <= at_us <= left_us or (at_us < typed_us <= frames[i + 1][0])
        ]
        assert shown_then, f"no frame of the recording covers the time {field} had the focus"
        for at_us, picture in shown_then:
            if not is_masked(picture, field) and typed_marks(picture, field):
                Image.fromarray(picture).save(ARTIFACTS / f"masking-frame-{at_us}.png")
                raise AssertionError(f"{field} shows typed characters at {at_us} µs")
        assert is_masked(shown_then[-1][1], field), f"{field} was masked before it was left"
    for field, focused_us in (
        (pin, since(start, focused_at)),
        (gtk_field, since(start, gtk_focused_at)),
    ):
        masked_us = next(at for at, p in frames if at > focused_us and is_masked(p, field))
        print(
            f"{field}: first masked frame {(masked_us - focused_us) / 1000:.0f} ms after the focus"
        )
    # Focus gone: the program reports the mask off with the first grab without it; the
    # picture of that grab may reach the viewer in more than one update (the update
    # budget), so the field is shown whole shortly after the report, and from then on
    # it is never masked again; none is half masked in between.
    blurred_us = since(start, blurred_at)
    stopped_us = next(
        e.at_us
        for e in events
        if e.at_us > blurred_us
        and json.loads(e.payload).get("from") == "applet"
        and json.loads(e.payload).get("type") == "masking"
        and "secret_input" not in json.loads(e.payload)["kinds"]
    )
    after = [(at, p) for at, p in frames if blurred_us < at < since(start, gtk_focused_at)]
    still = [at for at, p in after if is_masked(p, pin)]
    whole = [at for at, p in after if at > stopped_us and difference(p, left_field, pin) < 6]
    assert whole, "the field is shown again after the mask was reported off"
    assert whole[0] - stopped_us < 500_000, (whole[0], stopped_us)
    for at_us, picture in after:
        if at_us >= whole[0] and difference(picture, left_field, pin) >= 6:
            Image.fromarray(picture).save(ARTIFACTS / f"masking-not-whole-{at_us}.png")
            raise AssertionError(f"{pin} not whole at {at_us} µs")
    print(f"frames with the PIN field still masked after the focus left: {len(still)}")
    started = [m.text for m in marks if m.kind is MarkKind.MASKING_STARTED]
    assert "secret_input" in ", ".join(started) and "window_rule" in ", ".join(started)


async def test_the_privacy_screen_blanks_the_picture_while_chat_crosses_both_ways(
    screen: Screen, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    """The customer's window in window mode (tests/e2e/join_tk_child.py), its key
    Ctrl+Alt+S pressed with xdotool as the customer presses it."""
    page = await agent_page(browser, server)
    number, token = await new_session_joined(page, server)
    home = tmp_path / "home"
    home.mkdir()
    proc = start_window_program(server, token, screen, home)
    window = Window(proc)
    everything = Box(0, 0, screen.desktop.width, screen.desktop.height)

    async def shows(wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        return await asyncio.to_thread(window.wait_for, wanted)  # type: ignore[no-any-return]

    async def press_privacy_key() -> datetime:
        program = screen.desktop.window_titled("Fernwartung aktiv", within=10)
        assert program is not None
        screen.desktop.focus(program)
        pressed = datetime.now(UTC)
        screen.xdotool("key", "ctrl+alt+s")
        return pressed

    try:
        await page.goto(f"{server.url}/console/sessions/{number}/live")
        live, notice = page.locator("[data-live]"), page.locator("[data-notice]")
        await expect(live).to_have_attribute("data-viewer", "connected", timeout=30000)
        await shows(lambda r: r.get("privacy") == "Sichtschutz")
        await canvas_until(
            page, lambda p: difference(p, screen.picture(), everything) < 3, "the screen"
        )

        await press_privacy_key()
        on = await shows(lambda r: r.get("privacy") == "Sichtschutz aus")
        assert on["masked"] == "Geschützte Eingabe – für den Berater ausgeblendet"
        await canvas_until(page, lambda p: is_masked(p, everything), "the whole picture masked")
        blanked_at = datetime.now(UTC)
        await expect(notice).to_have_text(PRIVACY_NOTICE)
        # Chat goes on both ways.
        await page.get_by_label("Nachricht an den Kunden").fill("Ich warte, bis Sie fertig sind.")
        await page.get_by_label("Nachricht an den Kunden").press("Enter")
        heard = await shows(lambda r: "Ich warte" in r.get("shown", ""))
        await click(screen, heard["toggle_at"])
        opened = await shows(lambda r: not r["title"].startswith("("))
        await click(screen, opened["entry_at"])
        screen.xdotool("type", "--delay", "20", "Gleich fertig.")
        screen.xdotool("key", "Return")
        await expect(page.locator("[data-chat] li.customer")).to_contain_text("Gleich fertig.")
        assert is_masked(await canvas_picture(page), everything), "the chat typed: still blank"

        shown_again_at = await press_privacy_key()
        await shows(lambda r: r.get("privacy") == "Sichtschutz")
        await canvas_until(
            page, lambda p: difference(p, screen.picture(), everything) < 3, "the screen again"
        )
        await expect(notice).to_be_hidden()
        await asyncio.sleep(0.5)
        await page.get_by_role("button", name="Sitzung beenden").click()
        await page.locator("[data-confirm-end]").click()
        await expect(live).to_have_attribute("data-state", "ended", timeout=5000)
    finally:
        proc.kill()
        proc.wait(10)
        await page.context.close()

    # The recording: blank from the first blank frame until the key was pressed again.
    entries = await asyncio.to_thread(audit_entries, server, number)
    changes = [
        (e["event_type"], e["data"]["kinds"]) for e in entries if "masking_st" in e["event_type"]
    ]
    path, master_key = verified_recording(server, entries)
    assert changes == [
        ("session.masking_started", ["privacy"]),
        ("session.masking_stopped", ["privacy"]),
    ], changes
    with RecordingReader(path, master_key) as reader:
        start = reader.started_at
        frames = list(recorded_frames(reader, max(reader.index.channel_starts)))
    blank = [at for at, p in frames if is_masked(p, everything)]
    assert blank, "the recording has the blank picture"
    for at_us, picture in frames:
        if blank[0] <= at_us <= since(start, shown_again_at):
            assert is_masked(picture, everything), f"the picture shows at {at_us} µs"
    assert blank[0] <= since(start, blanked_at)
    assert not is_masked(frames[-1][1], everything), "the picture is back at the end"
