"""A hand-over end to end, as the hotline works: the real server, the support program in
window mode on Xvfb beside an xterm (join_tk_child.py), three agents in headless
Chromium, each in a context of their own.

Anna hands the live session to Bernd from the live page's dialog, watching on. Bernd's
canvas shows the screen and his typing reaches the xterm; Anna's no longer does, neither
through her viewer nor as key events sent raw on its socket. The customer's window names
Bernd. Bernd invites Carla to watch: her keys, typed or sent raw, arrive nowhere — the
recording, which keeps what the relay's gate let through, holds none of them. The audit
trail and the player's timeline show the hand-over and the helpers.
"""

from __future__ import annotations

import asyncio
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Browser, Locator, Page, expect

from supportdesk.recording import RecordingReader
from supportdesk.recording.format import RecordKind
from supportdesk.recording.timeline import MarkKind, timeline
from tests.agent_login import sign_in_page
from tests.desktop import Desktop, wait_until, xvfb
from tests.e2e.test_live_session import ARTIFACTS, canvas_matches_screen, new_session_joined
from tests.e2e.test_staying_connected import audit_entries
from tests.e2e.test_window_chat import Window, start_program
from tests.live_server import LiveServer, live_server, self_signed_certificate

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
PASSWORD = "korrekt pferd batterie heftklammer"
AGENTS = {"anna": "Anna Berger", "bernd": "Bernd Becker", "carla": "Carla Schulz"}
WIDTH, HEIGHT = 1366, 768
XTERM_AT = (700, 120)  # right of the customer's window, which Tk puts at the top left
XTERM_SIZE = (480, 310)  # about 80x24 characters: a point in it is surely in it
SETTLE_S = 2.0  # how long a key, had it passed, would need to create its file

# Every socket the page opens, so a test can send on the viewer's socket itself what
# noVNC would not send for a view-only agent: the relay's gate must drop it.
KEEP_SOCKETS = """
(() => {
  const Original = window.WebSocket;
  window.__sockets = [];
  // A plain WebSocket comes out (noVNC checks the prototype's own properties).
  function Keeping(...args) {
    const socket = new Original(...args);
    window.__sockets.push(socket);
    return socket;
  }
  Keeping.prototype = Original.prototype;
  Object.assign(Keeping, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = Keeping;
})();
"""
SEND_RAW_KEYS = """
(keysyms) => {
  const open = window.__sockets.filter(
    (s) => s.url.includes("/ws/viewer/") && s.readyState === WebSocket.OPEN);
  if (open.length === 0) return false;
  const socket = open[open.length - 1];
  for (const keysym of keysyms) {
    for (const down of [1, 0]) {
      const event = new Uint8Array(8);
      event[0] = 4; event[1] = down;
      new DataView(event.buffer).setUint32(4, keysym);
      socket.send(event.buffer);
    }
  }
  return true;
}
"""

REOPENED_VIEWER = """
() => {
  const viewers = window.__sockets.filter((s) => s.url.includes("/ws/viewer/"));
  return viewers.length >= 2 && viewers[viewers.length - 1].readyState === WebSocket.OPEN;
}
"""


def keysyms(text: str) -> list[int]:
    """X keysyms of plain ASCII text; a newline is Return."""
    return [0xFF0D if c == "\n" else ord(c) for c in text]


def key_down(keysym: int) -> bytes:
    return struct.pack(">BBxxI", 4, 1, keysym)


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with xvfb(WIDTH, HEIGHT, 24) as desk:
        yield desk


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("handover")
    tls = self_signed_certificate(folder)
    with live_server(folder, tls=tls) as running:
        for user, name in AGENTS.items():
            added = subprocess.run(
                [sys.executable, "-m", "supportdesk", "agents", "add", user,
                 "--name", name, "--password-stdin"],
                input=PASSWORD + "\n", cwd=folder, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert added.returncode == 0, added.stderr
        yield running


async def signed_in(browser: Browser, server: LiveServer, user: str) -> Page:
    """The agent's own browser, on the overview: signed in, and so online for colleagues."""
    context = await browser.new_context(
        ignore_https_errors=True, viewport={"width": 1500, "height": 1000}
    )
    await context.add_init_script(KEEP_SOCKETS)
    page = await context.new_page()
    await sign_in_page(page, server.url, user, PASSWORD)
    await expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    return page


async def open_live(page: Page, server: LiveServer, number: str) -> Locator:
    await page.goto(f"{server.url}/console/sessions/{number}/live")
    live = page.locator("[data-live]")
    await expect(live).to_have_attribute("data-viewer", "connected", timeout=30000)
    return live


async def type_into_xterm(page: Page, text: str) -> None:
    """Click into the xterm on the agent's canvas (scaled to fit the page), then type."""
    await page.evaluate("window.scrollTo(0, 0)")  # the team dialog's button is further down
    box = await page.locator("[data-screen] canvas").bounding_box()
    assert box is not None
    scale = box["width"] / WIDTH
    x = box["x"] + (XTERM_AT[0] + XTERM_SIZE[0] / 2) * scale
    y = box["y"] + (XTERM_AT[1] + XTERM_SIZE[1] / 2) * scale
    await page.mouse.click(x, y)
    await page.keyboard.type(text, delay=20)


async def send_raw_keys(page: Page, text: str) -> None:
    """Key events straight onto the page's open viewer socket, past noVNC's view-only."""
    assert await page.evaluate(SEND_RAW_KEYS, keysyms(text)), "no open viewer socket"


async def team_dialog(page: Page, colleague: str, what: str, keep_watching: bool = False) -> None:
    """The live page's "Übergeben oder Kollegen hinzuziehen …", as an agent uses it."""
    await page.get_by_role("button", name="Übergeben oder Kollegen hinzuziehen …").click()
    dialog = page.get_by_role("dialog", name="Sitzung übergeben oder Kollegen hinzuziehen")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("option", has_text=colleague)).to_have_count(1, timeout=15000)
    await dialog.get_by_label("Kollegin oder Kollege").select_option(label=colleague)
    await dialog.get_by_label(what, exact=True).check()
    if keep_watching:
        await dialog.get_by_label("Danach weiter zuschauen").check()
    await dialog.get_by_role("button", name="Bestätigen").click()
    await expect(page.locator("[data-team-status]")).not_to_be_empty()


async def nothing_arrives(work: Path, name: str) -> None:
    await asyncio.sleep(SETTLE_S)
    assert not (work / name).exists(), f"{name} arrived"


async def test_anna_hands_over_to_bernd_and_carla_only_watches(
    desktop: Desktop, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    work = tmp_path / "xterm"
    work.mkdir()
    geometry = f"80x24+{XTERM_AT[0]}+{XTERM_AT[1]}"
    desktop.xterm(["bash", "--norc", "--noprofile"], geometry=geometry, cwd=str(work))
    anna, bernd, carla = [await signed_in(browser, server, user) for user in AGENTS]
    number, token = await new_session_joined(anna, server)
    home = tmp_path / "home"
    home.mkdir()
    proc = start_program(server, token, desktop, home)
    window = Window(proc)

    async def shows(wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        return await asyncio.to_thread(window.wait_for, wanted)  # type: ignore[no-any-return]

    try:
        anna_live = await open_live(anna, server, number)
        await expect(anna_live).to_have_attribute("data-control", "yes")
        first = await shows(lambda r: "steuert" in r.get("agent", ""))
        assert (first["agent"], first["helpers"]) == ("Anna Berger (steuert)", "")

        # Anna hands the session to Bernd and watches on.
        await team_dialog(anna, "Bernd Becker", "Sitzung übergeben", keep_watching=True)
        taken = await shows(lambda r: r.get("agent", "").startswith("Bernd"))
        assert taken["agent"] == "Bernd Becker (steuert)"
        assert taken["helpers"] == "Anna Berger (sieht zu)"
        assert taken["notice"] == "Bernd Becker hat Ihre Fernwartung übernommen."
        await expect(anna_live).to_have_attribute("data-control", "no", timeout=15000)
        # The relay closed her viewer (1012) and the page opened it again, view-only.
        await anna.wait_for_function(REOPENED_VIEWER, timeout=15000)
        await expect(anna_live).to_have_attribute("data-viewer", "connected", timeout=15000)

        bernd_live = await open_live(bernd, server, number)
        await expect(bernd_live).to_have_attribute("data-control", "yes")
        canvas = bernd.locator("[data-screen] canvas")
        await asyncio.sleep(1.5)  # the first full update painted
        await canvas.screenshot(path=str(ARTIFACTS / "handover-bernd-canvas.png"))
        difference = canvas_matches_screen(await canvas.screenshot(), desktop)
        print(f"Bernd's canvas differs from the screen by {difference:.2f} per channel")
        assert difference < 12, f"Bernd's canvas differs from the screen by {difference:.1f}"
        await type_into_xterm(bernd, "touch von-bernd\n")
        await asyncio.to_thread(
            wait_until, lambda: (work / "von-bernd").exists(), 10, "Bernd's typed file"
        )

        # Anna's keys no longer reach the desktop: typed, or sent raw on her socket.
        await type_into_xterm(anna, "touch von-anna\n")
        await send_raw_keys(anna, "touch von-anna-roh\n")
        await nothing_arrives(work, "von-anna")
        await nothing_arrives(work, "von-anna-roh")

        # Bernd invites Carla to watch (her overview is open: she is online).
        await team_dialog(bernd, "Carla Schulz", "Zum Zuschauen hinzuziehen")
        helped = await shows(lambda r: "Carla" in r.get("helpers", ""))
        assert helped["helpers"] == "Anna Berger (sieht zu), Carla Schulz (sieht zu)"
        assert helped["agent"] == "Bernd Becker (steuert)"
        carla_live = await open_live(carla, server, number)
        await expect(carla_live).to_have_attribute("data-control", "no")
        carla_from = datetime.now(UTC)
        await type_into_xterm(carla, "touch von-carla\n")
        await send_raw_keys(carla, "touch von-carla-roh\n")
        await nothing_arrives(work, "von-carla")
        await nothing_arrives(work, "von-carla-roh")
        # Bernd still controls: the desktop took no harm from Carla's keys.
        await expect(bernd_live).to_have_attribute("data-control", "yes")
        await type_into_xterm(bernd, "touch noch-bernd\n")
        await asyncio.to_thread(
            wait_until, lambda: (work / "noch-bernd").exists(), 10, "Bernd's second file"
        )
        await bernd.screenshot(path=str(ARTIFACTS / "handover-bernd-live.png"))
        Image.fromarray(desktop.screenshot()[:, :, 2::-1]).save(ARTIFACTS / "handover-desktop.png")

        # Bernd ends the session; the program ends with it.
        await bernd.locator('[data-action="end"]').click()
        await bernd.locator("[data-confirm-end]").click()
        await expect(bernd_live).to_have_attribute("data-state", "ended", timeout=10000)
        await shows(lambda r: "ended" in r)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for page in (anna, bernd, carla):
            await page.context.close()

    entries = await asyncio.to_thread(audit_entries, server, number)
    handed = [e for e in entries if e["event_type"] == "session.handed_over"]
    invited = [e for e in entries if e["event_type"] == "session.helper_invited"]
    assert [e["data"] for e in handed] == [
        {"from": "agent:anna", "to": "agent:bernd", "previous_stays": True}
    ]
    assert [e["data"] for e in invited] == [
        {"helper": "agent:carla", "control": False, "changed": False}
    ]

    finished = [e for e in entries if e["event_type"] == "recording_finished"]
    assert len(finished) == 1, [e["event_type"] for e in entries]
    path = server.workdir / "var" / "recordings" / finished[0]["data"]["file"]
    master_key = bytes.fromhex((server.workdir / "keys" / "recording-master.key").read_text())
    with RecordingReader(path, master_key) as reader:
        marks = [
            (m.kind, m.who, m.text)
            for m in timeline(reader.events())
            if m.kind in {MarkKind.HAND_OVER, MarkKind.HELPER_JOINED}
        ]
        started = reader.started_at
        passed_on = list(reader.records(kinds={RecordKind.RFB_CLIENT_TO_SERVER}))
    assert marks == [
        (MarkKind.HAND_OVER, "Bernd Becker", "Anna Berger"),
        (MarkKind.HELPER_JOINED, "Anna Berger", "view"),
        (MarkKind.HELPER_JOINED, "Carla Schulz", "view"),
    ]
    # What the relay let through from viewers, as the recording kept it: Bernd's keys,
    # none of Carla's after she came (nobody else typed then but Bernd, "noch-bernd").
    carla_at_us = int((carla_from - started).total_seconds() * 1e6)
    passed = b"".join(r.payload for r in passed_on)
    assert key_down(ord("v")) in passed  # "von-bernd": the search finds what passed
    later = [r.payload for r in passed_on if r.at_us >= carla_at_us]
    for letter in "val":  # in "von-carla(-roh)", not in "touch noch-bernd"
        assert not any(key_down(ord(letter)) in payload for payload in later), letter
