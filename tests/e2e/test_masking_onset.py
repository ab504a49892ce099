"""The mask's onset end to end: a customer who clicks into the PIN field and types at once.

The same desk as tests/e2e/test_masking.py (Xvfb, private accessibility bus, the real
server recording, the program in text mode, the agent's headless Chromium through the
real relay, the bank-like login page in a headful Chromium): the click and the keys are
one xdotool command, with no pause between them, as a customer who types straight
after the click. The recording is the agent's picture (the relay tees every byte the
viewer gets), so it is decoded frame by frame from the channel's first byte: the frame in
effect at the click and every later one until the focus left must have the field
masked, or show it without a typed character.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from playwright.async_api import Browser, Page, expect

from supportdesk.recording import RecordingReader
from tests.e2e.masking_desk import Screen, canvas_until, on_screen, since, start_program
from tests.e2e.masking_pictures import difference, is_masked, recorded_frames, typed_marks
from tests.e2e.test_live_session import ARTIFACTS, agent_page, new_session_joined
from tests.e2e.test_masking import (  # noqa: F401 - the fixtures
    PIN,
    bank_page,
    screen,
    server,
)
from tests.e2e.test_recorded_session import audit_entries
from tests.live_server import LiveServer

from .masking_desk import verified_recording

ROUNDS = 3
"""Focus-and-type rounds in one session (each a fresh race between the dots and the mask)."""


async def test_typing_straight_after_the_click_never_shows_a_typed_character(
    screen: Screen,  # noqa: F811
    server: LiveServer,  # noqa: F811
    browser: Browser,
    bank_page: Page,  # noqa: F811
    tmp_path: Path,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    chromium = screen.desktop.window_titled("Online-Banking", within=10)
    assert chromium is not None
    pin = await on_screen(bank_page, screen, "#pin")
    user = await on_screen(bank_page, screen, "#user")
    page = await agent_page(browser, server)
    number, token = await new_session_joined(page, server)
    home = tmp_path / "home"
    home.mkdir()
    program = start_program(server, token, screen, home)
    spans: list[tuple[datetime, datetime]] = []
    try:
        assert program.stdin is not None
        program.stdin.write("n\nn\nn\nJa\n")  # view only
        program.stdin.flush()
        await page.goto(f"{server.url}/console/sessions/{number}/live")
        live = page.locator("[data-live]")
        await expect(live).to_have_attribute("data-viewer", "connected", timeout=30000)
        screen.desktop.focus(chromium)
        ux, uy = user.x + user.width - 10, user.y + user.height // 2
        cx, cy = pin.x + pin.width // 2, pin.y + pin.height // 2
        for _ in range(ROUNDS):
            await bank_page.locator("#pin").fill("")
            screen.xdotool("mousemove", "--sync", str(ux), str(uy), "click", "1")
            await canvas_until(
                page, lambda p: difference(p, screen.picture(), pin) < 6, "the PIN field empty"
            )
            clicked_at = datetime.now(UTC)
            # Click and type in one command: the first key follows the click at once.
            screen.xdotool(
                "mousemove", "--sync", str(cx), str(cy), "click", "1",
                "type", "--delay", "30", PIN,
            )  # fmt: skip
            assert await bank_page.locator("#pin").input_value() == PIN
            typed = screen.picture()
            assert typed_marks(typed, pin) > 0, "the dots on the screen are seen"
            await canvas_until(page, lambda p: is_masked(p, pin), "the PIN field masked")
            left_at = datetime.now(UTC)
            screen.xdotool("mousemove", "--sync", str(ux), str(uy), "click", "1")
            await canvas_until(
                page, lambda p: not is_masked(p, pin), "the PIN field unmasked again"
            )
            spans.append((clicked_at, left_at))
        await asyncio.sleep(0.5)
        program.stdin.write("e\n\n")
        program.stdin.flush()
        await expect(live).to_have_attribute("data-state", "ended", timeout=5000)
        output, _ = program.communicate(timeout=20)
    finally:
        if program.poll() is None:
            program.kill()
            program.wait(5)
        await page.context.close()
    assert program.returncode == 0, output

    entries = await asyncio.to_thread(audit_entries, server, number)
    path, master_key = verified_recording(server, entries)
    with RecordingReader(path, master_key) as reader:
        start = reader.started_at
        frames = list(recorded_frames(reader, max(reader.index.channel_starts)))
        reports = [
            e.at_us
            for e in reader.events()
            if (m := json.loads(e.payload)).get("from") == "applet"
            and m.get("type") == "masking"
            and "secret_input" in m["kinds"]
        ]
    for clicked, left in spans:
        clicked_us, left_us = since(start, clicked), since(start, left)
        shown_then = [
            (at_us, picture)
            for i, (at_us, picture) in enumerate(frames)
            if clicked_us <= at_us <= left_us
            or (at_us < clicked_us and (i + 1 == len(frames) or frames[i + 1][0] > clicked_us))
        ]
        assert len(shown_then) > 1, "the recording covers the time the field had the focus"
        for at_us, picture in shown_then:
            if not is_masked(picture, pin) and typed_marks(picture, pin):
                Image.fromarray(picture).save(ARTIFACTS / f"masking-onset-{at_us}.png")
                raise AssertionError(f"the PIN field shows typed characters at {at_us} µs")
        masked_us = next(at for at, p in shown_then if is_masked(p, pin))
        reported_us = next(at for at in reports if at >= clicked_us)
        print(
            f"after the click: the program reported the mask at "
            f"{(reported_us - clicked_us) / 1000:.0f} ms, first masked frame at "
            f"{(masked_us - clicked_us) / 1000:.0f} ms"
        )
