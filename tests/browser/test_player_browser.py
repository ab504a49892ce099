"""The auditor's player in headless Chromium: state a reason, play, pause, seek; compare pictures.

Recordings of known pictures (tests/recording/colour_session.py: a block whose
colour and place say which second it is) are registered with the real server the
way the relay registers them. The canvas noVNC draws is read back and compared
with the picture of that second. A browser share (tests/recording/video_session.py:
real H.264 from libx264, one colour per second) plays through VideoDecoder: the
canvas shows that second's colour and the frame painted is the one of the position.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.async_api import Browser, Page, expect

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.recording import RecordingReader
from supportdesk.recording.format import CHUNK_HEADER_SIZE, ChunkFlags
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.recordings import Recordings
from tests.agent_login import sign_in_page
from tests.live_server import LiveServer, live_server
from tests.recording.colour_session import SECOND, ColourRecording, record_colours
from tests.recording.video_session import PALETTE, VideoRecording, record_video

PASSWORD = "korrekt pferd batterie heftklammer"
KEY = secrets.token_bytes(32)
SHORT, LONG, UNOPENED = "BN-2026-1111-2222-3", "BN-2026-6060-6060-6", "BN-2026-7777-0000-1"
DAMAGED = "BN-2026-6666-0000-2"
VIDEO = "BN-2026-8080-8080-8"
MASKED = "BN-2026-4040-4040-4"
MASKING = {6: ["secret_input"], 7: ["privacy", "secret_input"], 8: ["window_rule"], 9: []}
TOLERANCE = 3.0  # mean absolute difference per channel; lossless Tight draws exactly


@dataclass
class Fixture:
    server: LiveServer
    recordings: dict[str, ColourRecording]
    video: VideoRecording


def cli(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportdesk", *args],
        input=stdin, cwd=folder, capture_output=True, text=True, timeout=60,
        env={**os.environ, "SUPPORTDESK_RECORDING_MASTER_KEY": KEY.hex()},
    )  # fmt: skip


async def register(folder: Path, recording: ColourRecording | VideoRecording) -> None:
    """What the relay writes at a session's end: the row and the audited final hash."""
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'var' / 'supportdesk.db'}")
    ended = datetime.now(UTC) - timedelta(hours=1)
    try:
        async with AuditLog(session_factory(engine)).work() as work:
            rows = Recordings(work.session)
            started = ended - timedelta(seconds=recording.seconds)
            await rows.register(recording.number, recording.path.name, started)
            await rows.finish(recording.number, recording.final_hash, ended, 1)
            await work.record(
                AuditRecord(
                    ended,
                    "recording_finished",
                    "system:relay",
                    recording.number,
                    {"final_hash": recording.final_hash, "file": recording.path.name},
                )
            )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    folder = tmp_path_factory.mktemp("player")
    directory = folder / "var" / "recordings"
    directory.mkdir(parents=True)
    recordings = {
        SHORT: record_colours(directory / f"{SHORT}.sdrec", KEY, SHORT, seconds=30),
        LONG: record_colours(directory / f"{LONG}.sdrec", KEY, LONG, seconds=3600),
        UNOPENED: record_colours(directory / f"{UNOPENED}.sdrec", KEY, UNOPENED, seconds=3),
        DAMAGED: record_colours(directory / f"{DAMAGED}.sdrec", KEY, DAMAGED, seconds=30),
        MASKED: record_colours(
            directory / f"{MASKED}.sdrec", KEY, MASKED, seconds=12, masking=MASKING
        ),
    }
    damage_after(recordings[DAMAGED].path, 21 * SECOND)
    video = record_video(
        directory / f"{VIDEO}.sdrec", KEY, VIDEO, seconds=30, fps=10, key_every_seconds=10
    )
    with live_server(folder, SUPPORTDESK_RECORDING_MASTER_KEY=KEY.hex()) as server:
        for name, role in (("rita", "auditor"), ("anna", "agent")):
            added = cli(
                folder, "agents", "add", name, "--name", name.title(), "--role", role,
                "--password-stdin", stdin=PASSWORD + "\n",
            )  # fmt: skip
            assert added.returncode == 0, added.stderr
        for recording in [*recordings.values(), video]:
            asyncio.run(register(folder, recording))
        yield Fixture(server, recordings, video)


def damage_after(path: Path, at_us: int) -> None:
    """Flip a byte in the body of the first plain chunk (no keyframe, no events) after ``at_us``."""
    with RecordingReader(path, KEY) as reader:
        entry = next(
            e
            for e in reader.index.entries
            if e.header.first_us >= at_us and e.header.flags == ChunkFlags.NONE
        )
    data = bytearray(path.read_bytes())
    data[entry.offset + CHUNK_HEADER_SIZE + 3] ^= 0x20
    path.write_bytes(bytes(data))


async def log_in(browser: Browser, server: LiveServer, username: str) -> Page:
    # The e2e tests' servers speak TLS with their own certificate.
    context = await browser.new_context(
        ignore_https_errors=True, viewport={"width": 1400, "height": 1000}
    )
    page = await context.new_page()
    await sign_in_page(page, server.url, username, PASSWORD)
    await expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    return page


@pytest.fixture
async def auditor(browser: Browser, desk: Fixture) -> AsyncIterator[Page]:
    page = await log_in(browser, desk.server, "rita")
    yield page
    await page.context.close()


async def open_player(page: Page, server: LiveServer, number: str, reason: str) -> None:
    await page.goto(server.url + "/console/recordings")
    row = page.locator(f'[data-recording="{number}"]')
    await row.get_by_label("Grund der Einsichtnahme").fill(reason)
    await row.get_by_role("button", name="Wiedergabe öffnen").click()
    await expect(page.get_by_role("heading", name=f"Aufzeichnung {number}")).to_be_visible()


async def canvas_pixels(page: Page) -> np.ndarray:
    url = await page.evaluate(
        "() => [...document.querySelectorAll('[data-screen] canvas')].pop().toDataURL()"
    )
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


async def shown_matches(page: Page, expected: np.ndarray) -> float:
    """The difference once noVNC has drawn (it draws asynchronously; wait up to 5 s)."""
    difference = float("inf")
    for _ in range(50):
        shown = await canvas_pixels(page)
        if shown.shape == expected.shape:
            difference = float(np.abs(shown - expected.astype(np.int16)).mean())
            if difference <= TOLERANCE:
                break
        await asyncio.sleep(0.1)
    return difference


async def seek_paused(page: Page, at_us: int) -> None:
    """Seek while paused and wait until the server has sent everything up to ``at_us``."""
    await page.locator("[data-timeline]").fill(str(at_us))
    await expect(page.locator("[data-player]")).to_have_attribute("data-caught-up", str(at_us))


async def test_an_auditor_states_a_reason_plays_pauses_and_seeks(
    auditor: Page, desk: Fixture
) -> None:
    page, server = auditor, desk.server
    await page.goto(server.url + "/console/recordings")
    row = page.locator(f'[data-recording="{SHORT}"]')
    await row.get_by_label("Grund der Einsichtnahme").fill("kurz")
    await row.get_by_label("Grund der Einsichtnahme").evaluate(
        "e => e.removeAttribute('minlength')"
    )
    await row.get_by_role("button", name="Wiedergabe öffnen").click()
    await expect(page.get_by_role("alert")).to_contain_text("mindestens 10 Zeichen")
    assert await row.get_by_label("Grund der Einsichtnahme").input_value() == "kurz"

    reason = "Revision 2026/14: Beschwerde des Kunden prüfen"
    await open_player(page, server, SHORT, reason)
    player = page.locator("[data-player]")
    await expect(page.locator("[data-events]")).to_contain_text("Zustimmung: Bildschirm sehen")
    await expect(page.locator("[data-events]")).to_contain_text("Pausiert")
    await expect(page.locator("[data-chat]")).to_contain_text("Guten Tag")
    assert await page.locator(".marks-track .mark").count() == 6

    # Play at 16x, then pause: the picture is the one of the paused position.
    await expect(player).to_have_attribute("data-state", "playing")
    await page.get_by_label("Geschwindigkeit").select_option("16")
    await page.wait_for_function(
        "() => Number(document.querySelector('[data-player]').dataset.position) > 8000000"
    )
    await page.get_by_role("button", name="Pause").click()
    await expect(player).to_have_attribute("data-state", "paused")
    await expect(player).to_have_attribute("data-caught-up", re.compile(r"^\d+$"))
    paused_at = int(await player.get_attribute("data-caught-up") or "0")
    assert paused_at > 8 * SECOND
    assert await shown_matches(page, ColourRecording.expected_at(paused_at)) <= TOLERANCE

    # Seek back and forth: before the first keyframe, just after one, mid-interval.
    for at_us in (2_500_000, 20_000_000, 27_600_000, 9_900_000, 14_200_000):
        await seek_paused(page, at_us)
        difference = await shown_matches(page, ColourRecording.expected_at(at_us))
        assert difference <= TOLERANCE, f"at {at_us} µs the canvas differs by {difference}"
    await page.screenshot(path=str(desk.server.workdir / "player.png"))

    # Play on to the end: the player says so and stops there.
    await page.get_by_role("button", name="Abspielen").click()
    await expect(player).to_have_attribute("data-state", "ended", timeout=15_000)
    assert await shown_matches(page, ColourRecording.expected_at(29 * SECOND)) <= TOLERANCE

    opened = [
        json.loads(line)
        for line in cli(server.workdir, "audit", "export").stdout.splitlines()
        if json.loads(line)["event_type"] == "recording_opened"
    ]
    assert {"subject": SHORT, "actor": "agent:rita", "reason": reason} in [
        {"subject": e["subject"], "actor": e["actor"], "reason": e["data"]["reason"]}
        for e in opened
    ]


async def test_seeking_in_a_60_minute_recording_shows_the_right_picture(
    auditor: Page, desk: Fixture
) -> None:
    await open_player(auditor, desk.server, LONG, "Stichprobe der Innenrevision 60 Minuten")
    player = auditor.locator("[data-player]")
    await expect(player).to_have_attribute("data-state", "playing")
    await auditor.get_by_role("button", name="Pause").click()
    await expect(player).to_have_attribute("data-state", "paused")
    for at_us in (45 * 60 * SECOND + 500_000, 59 * 60 * SECOND + 59 * SECOND, 7 * SECOND):
        await seek_paused(auditor, at_us)
        difference = await shown_matches(auditor, ColourRecording.expected_at(at_us))
        assert difference <= TOLERANCE, f"at {at_us} µs the canvas differs by {difference}"


async def test_the_timeline_shows_when_masking_started_and_stopped_and_which_kinds(
    auditor: Page, desk: Fixture
) -> None:
    await open_player(auditor, desk.server, MASKED, "Prüfung der Ausblendung im Protokoll")
    events = auditor.locator("[data-events] li")
    shown = [
        (await e.get_attribute("data-kind"), (await e.inner_text()).split(" ", 1)[1])
        for e in await events.all()
        if (await e.get_attribute("data-kind") or "").startswith("masking")
    ]
    assert shown == [
        ("masking_started", "Ausblendung begonnen: Passwortfeld"),
        ("masking_started", "Ausblendung begonnen: Sichtschutz"),
        ("masking_started", "Ausblendung begonnen: Fenster nach Regel der Bank"),
        ("masking_stopped", "Ausblendung beendet: Sichtschutz, Passwortfeld"),
        ("masking_stopped", "Ausblendung beendet: Fenster nach Regel der Bank"),
    ]
    # On the track where the auditor sees them, at their times; a click seeks there.
    track = auditor.locator(".marks-track .mark-masking_started")
    assert [await m.get_attribute("data-at-us") for m in await track.all()] == [
        "6500000", "7500000", "8500000"
    ]  # fmt: skip
    assert await auditor.locator(".marks-track .mark-masking_stopped").count() == 2
    player = auditor.locator("[data-player]")
    await expect(player).to_have_attribute("data-state", "playing")
    await auditor.get_by_role("button", name="Pause").click()
    await expect(player).to_have_attribute("data-state", "paused")
    await events.filter(has_text="Ausblendung beendet").first.get_by_role("button").click()
    await expect(player).to_have_attribute("data-caught-up", "8500000")

    # In English, through the same catalogue.
    await auditor.context.add_cookies([{"name": "sd_lang", "value": "en", "url": desk.server.url}])
    await auditor.reload()
    stopped = auditor.locator('[data-events] li[data-kind="masking_stopped"]').first
    await expect(stopped).to_contain_text("Masking stopped: Privacy screen, password field")


async def test_the_player_is_for_auditors_only(browser: Browser, desk: Fixture) -> None:
    page = await log_in(browser, desk.server, "anna")
    try:
        listing = await page.goto(desk.server.url + "/console/recordings")
        assert listing is not None and listing.status == 403
        player = await page.goto(desk.server.url + f"/console/recordings/{SHORT}/player")
        assert player is not None and player.status == 403
        await expect(page.get_by_role("link", name="Aufzeichnungen")).to_have_count(0)
        # Nor does the player socket open for anyone without a player ticket.
        url = desk.server.url.replace("http", "ws") + f"/ws/player/{SHORT}?ticket=guessed"
        opened = await page.evaluate(
            """(url) => new Promise((resolve) => {
                 const socket = new WebSocket(url);
                 socket.onopen = () => resolve(true);
                 socket.onclose = () => resolve(false);
               })""",
            url,
        )
        assert opened is False
    finally:
        await page.context.close()


async def test_the_player_needs_a_stated_reason_first(auditor: Page, desk: Fixture) -> None:
    await auditor.goto(desk.server.url + f"/console/recordings/{UNOPENED}/player")
    assert auditor.url.endswith(f"/console/recordings#rec-{UNOPENED}")
    await expect(auditor.get_by_role("heading", name="Aufzeichnungen")).to_be_visible()


async def test_a_damaged_recording_stops_playback_with_a_clear_message(
    auditor: Page, desk: Fixture
) -> None:
    await open_player(auditor, desk.server, DAMAGED, "Prüfung einer beschädigten Aufzeichnung")
    player = auditor.locator("[data-player]")
    await expect(player).to_have_attribute("data-state", "playing")
    await auditor.get_by_role("button", name="Pause").click()
    await seek_paused(auditor, 15 * SECOND)  # before the damage: plays as ever
    assert await shown_matches(auditor, ColourRecording.expected_at(15 * SECOND)) <= TOLERANCE
    await auditor.locator("[data-timeline]").fill(str(25 * SECOND))
    await expect(player).to_have_attribute("data-state", "damaged")
    await expect(auditor.locator("[data-notice]")).to_contain_text("an dieser Stelle beschädigt")


async def shown_colour(page: Page, expected: tuple[int, int, int]) -> float:
    """How far the centre of the video canvas is from ``expected`` once painted (up to 5 s).

    The colour must also be nearer to ``expected`` than to any other colour of the
    palette (they are 56 apart).
    """
    difference = float("inf")
    for _ in range(50):
        shown = await canvas_pixels(page)
        h, w = shown.shape[:2]
        centre = shown[h // 2 - 20 : h // 2 + 20, w // 2 - 20 : w // 2 + 20].reshape(-1, 3)
        mean = centre.mean(0)
        difference = float(np.abs(mean - np.array(expected)).max())
        others = [c for c in PALETTE if c != expected]
        nearest = min(float(np.abs(mean - np.array(c)).max()) for c in others)
        if difference >= nearest:
            difference = float("inf")  # looks like another second
        elif difference <= VIDEO_TOLERANCE:
            break
        await asyncio.sleep(0.1)
    return difference


VIDEO_TOLERANCE = 8.0  # H.264 of a flat colour, BT.601 tagged


async def test_a_browser_share_plays_and_seeks_through_video_decoder(
    auditor: Page, desk: Fixture
) -> None:
    page, video = auditor, desk.video
    await open_player(page, desk.server, VIDEO, "Prüfung einer Bildschirmfreigabe im Browser")
    player = page.locator("[data-player]")
    assert await player.get_attribute("data-video") == "true"
    await expect(player).to_have_attribute("data-state", "playing")
    await expect(player).to_have_attribute("data-painted-timestamp", re.compile(r"^\d+$"))
    await page.get_by_role("button", name="Pause").click()
    await expect(player).to_have_attribute("data-state", "paused")

    # Seek while paused (the slider moves in 0.1 s steps): just after a key chunk,
    # mid-interval (decoded from the key chunk before, painted only at t), backwards,
    # the last frame, a key chunk itself.
    for at_us in (10_400_000, 17_400_000, 4_200_000, 29_200_000, 20_300_000):
        await seek_paused(page, at_us)
        frame = video.frame_at(at_us)
        await expect(player).to_have_attribute(
            "data-painted-timestamp", str(video.chunks[frame].timestamp_us)
        )
        assert await player.get_attribute("data-painted-frames") == "1"  # only the one at t
        difference = await shown_colour(page, video.colour_at(at_us))
        assert difference <= VIDEO_TOLERANCE, f"at {at_us} µs the canvas differs by {difference}"
    await page.screenshot(path=str(desk.server.workdir / "player-video.png"))

    # Before the share's first chunk there is nothing to show, and the page says so.
    await seek_paused(page, 100_000)
    await expect(page.locator("[data-notice]")).to_contain_text("beginnt später")

    # Play at 8x from 24 s to the end: the last picture stays.
    await seek_paused(page, 24 * SECOND)
    await page.get_by_label("Geschwindigkeit").select_option("8")
    await page.get_by_role("button", name="Abspielen").click()
    await expect(player).to_have_attribute("data-state", "ended", timeout=15_000)
    last = video.chunks[-1].timestamp_us
    await expect(player).to_have_attribute("data-painted-timestamp", str(last))
    assert await shown_colour(page, video.colour_at(30 * SECOND)) <= VIDEO_TOLERANCE
