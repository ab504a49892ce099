"""A real session on a real desktop is recorded: afterwards the recording verifies
against the final hash in the audit trail, and the picture played back from it (from
a keyframe, through the player feed, and in the auditor's player in the browser) is
what the agent's canvas showed."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.async_api import Browser, expect

from supportdesk.recording import PlayerFeed, RecordingReader, verify
from supportdesk.recording.rfb_decoder import ServerStreamDecoder
from tests.browser.test_player_browser import canvas_pixels, log_in, open_player, seek_paused
from tests.desktop import Desktop, wait_until
from tests.e2e.test_live_session import (
    ARTIFACTS,
    PASSWORD,
    agent_page,
    canvas_matches_screen,
    desktop,
    new_session_joined,
    server,
    start_applet,
)
from tests.live_server import LiveServer

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
__all__ = ["desktop", "server"]  # the shared module fixtures


def audit_entries(server: LiveServer, subject: str) -> list[dict[str, Any]]:
    exported = subprocess.run(
        [sys.executable, "-m", "supportdesk", "audit", "export"],
        cwd=server.workdir, capture_output=True, text=True, timeout=60, env=os.environ,
    )  # fmt: skip
    entries = [json.loads(line) for line in exported.stdout.splitlines()]
    return [e for e in entries if e["subject"] == subject]


def played_back(reader: RecordingReader, channel: int, at_us: int) -> np.ndarray:
    """The picture a player shows at ``at_us``: the feed decoded up to that time."""
    feed = PlayerFeed(reader, channel, at_us)
    assert feed.keyframe_at_us is not None, "playback starts from a keyframe"
    decoder = ServerStreamDecoder()
    for message in feed.messages():
        if message.at_us > at_us:
            break
        decoder.feed(message.data)
    assert decoder.framebuffer is not None
    return decoder.framebuffer


TYPED_LINES = (slice(0, 10), slice(0, 75))
"""Where the xterm shows the typed command and its output, in quarter-size pixels."""


def difference(canvas_png: bytes, picture: np.ndarray, area: Any = np.s_[:, :]) -> float:
    """Mean absolute difference per channel between the canvas and ``picture``, both
    reduced to a quarter of the screen's size (the canvas is scaled to fit the page;
    averaging 4x4 blocks keeps text, not the scaling's sampling)."""
    size = (picture.shape[1] // 4, picture.shape[0] // 4)
    shown = Image.open(io.BytesIO(canvas_png)).convert("RGB").resize(size, Image.Resampling.BOX)
    played = Image.fromarray(picture).resize(size, Image.Resampling.BOX)
    a, b = (np.asarray(image, dtype=np.int16)[area] for image in (shown, played))
    return float(np.abs(a - b).mean())


async def test_a_recorded_session_verifies_and_plays_back_what_the_agent_saw(
    desktop: Desktop, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    work = tmp_path / "xterm"
    work.mkdir()
    desktop.xterm(["bash", "--norc", "--noprofile"], geometry="100x30+0+0", cwd=str(work))
    page = await agent_page(browser, server)
    number, token = await new_session_joined(page, server)
    home = tmp_path / "home"
    home.mkdir()
    applet = start_applet(server, token, desktop, home)
    try:
        assert applet.stdin is not None
        applet.stdin.write("j\nn\nn\nJa\n")
        applet.stdin.flush()
        await page.goto(f"{server.url}/console/sessions/{number}/live")
        live = page.locator("[data-live]")
        await expect(live).to_have_attribute("data-viewer", "connected", timeout=15000)
        await expect(live).to_have_attribute("data-control", "yes")
        canvas = page.locator("[data-screen] canvas")
        # The agent types; the screen changes after the channel's first keyframe, so
        # playback needs the live Tight streams restarted after it (rule K2).
        box = await canvas.bounding_box()
        assert box is not None
        await page.mouse.click(box["x"] + 60, box["y"] + 60)
        await page.keyboard.type("echo aufgezeichnet; touch typed\n", delay=20)
        await asyncio.to_thread(wait_until, lambda: (work / "typed").exists(), 10, "typed file")
        for _ in range(50):  # until the canvas shows the new screen
            await asyncio.sleep(0.2)
            if canvas_matches_screen(await canvas.screenshot(), desktop) < 6:
                break
        seen = await canvas.screenshot(path=str(ARTIFACTS / "recorded-canvas.png"))
        seen_at = datetime.now(UTC)
        assert canvas_matches_screen(seen, desktop) < 12
        # Let the recording run on past that moment, so the player's timeline (in
        # steps of 0.1 s) can be set just after it.
        await asyncio.sleep(0.5)
        applet.stdin.write("e\n")
        applet.stdin.flush()
        await expect(live).to_have_attribute("data-state", "ended", timeout=3000)
        output, _ = applet.communicate(timeout=15)
    finally:
        if applet.poll() is None:
            applet.kill()
    assert applet.returncode == 0, output

    entries = await asyncio.to_thread(audit_entries, server, number)
    finished = [e for e in entries if e["event_type"] == "recording_finished"]
    assert len(finished) == 1, [e["event_type"] for e in entries]
    data = finished[0]["data"]
    path = server.workdir / "var" / "recordings" / data["file"]
    master_key = bytes.fromhex((server.workdir / "keys" / "recording-master.key").read_text())
    report = verify(path, master_key, data["final_hash"])
    assert report.ok and report.closed_cleanly, report
    assert report.final_hash == data["final_hash"] and data["size"] == path.stat().st_size

    with RecordingReader(path, master_key) as reader:
        assert reader.consultation_number == number
        channel = max(reader.index.channel_starts)  # the agent's (last) viewer
        assert reader.index.keyframes(channel), "the channel has keyframes"
        at_us = int((seen_at - reader.started_at).total_seconds() * 1e6)
        picture = played_back(reader, channel, at_us)
        before_typing = played_back(reader, channel, reader.index.keyframes(channel)[0])
    Image.fromarray(picture).save(ARTIFACTS / "recorded-playback.png")
    off, typed_off = difference(seen, picture), difference(seen, picture, TYPED_LINES)
    print(f"played back vs. canvas: {off:.2f} (typed lines {typed_off:.2f}) per channel")
    assert off < 8, f"the playback differs from the agent's canvas by {off:.1f} on average"
    assert typed_off < 8, f"the typed lines differ by {typed_off:.1f} on average"
    # The comparison sees the typing: the picture from before it does not match there.
    assert difference(seen, before_typing, TYPED_LINES) > 2 * typed_off + 4

    # An auditor opens the recording in the player, goes to that moment and sees it.
    added = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "supportdesk", "agents", "add", "rita", "--name", "Rita",
         "--role", "auditor", "--password-stdin"],
        input=PASSWORD + "\n", cwd=server.workdir, capture_output=True, text=True,
        timeout=60, env=os.environ,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    auditor = await log_in(browser, server, "rita")
    try:
        await open_player(auditor, server, number, "Revision: Stichprobe einer Fernwartung")
        await auditor.goto(f"{server.url}/console/recordings/{number}/player?channel={channel}")
        player = auditor.locator("[data-player]")
        await expect(player).to_have_attribute("data-state", "playing")
        await auditor.get_by_role("button", name="Pause").click()
        await expect(player).to_have_attribute("data-state", "paused")
        step = 100_000  # the timeline's step; nothing on the screen changes after seen_at
        await seek_paused(auditor, -(-at_us // step) * step)
        in_player = (await canvas_pixels(auditor)).astype(np.uint8)
        await auditor.screenshot(path=str(ARTIFACTS / "recorded-player.png"))
    finally:
        await auditor.context.close()
    player_off = difference(seen, in_player)
    print(f"player vs. canvas: {player_off:.2f} per channel")
    assert player_off < 8, f"the player differs from the agent's canvas by {player_off:.1f}"
