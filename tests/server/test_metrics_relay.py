"""/metrics follows the relay on a real server in this process: frames counted in both
directions on the customer's link, the time frames wait for a live viewer, and a
session held because its disk is full (counted once, and shown as held until the disk
takes writes again)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from supportdesk.link.frames import encode_frame
from supportdesk.server.metrics.catalogue import ServerMetrics
from tests.live_server import LiveServer
from tests.recording.test_fail_closed import FlakyOS
from tests.server.relay_parties import next_of
from tests.server.test_metrics_sessions import Scrape
from tests.server.test_relay_recording import (
    HANDSHAKE,
    KEY_EVENT,
    SERVER_HELLO,
    UPDATE_REQUEST,
    app,
    console_and_viewer,
    flaky,
    live_session,
    place,
    running,
    server,
)

__all__ = ["app", "flaky", "place", "running", "server"]  # the fixtures, shared

FRAMES = "supportdesk_relay_frames_total"
BYTES = "supportdesk_relay_bytes_total"
LAG_COUNT = "supportdesk_viewer_lag_seconds_count"


def metrics_of(app: FastAPI) -> ServerMetrics:
    found: ServerMetrics = app.state.metrics
    return found


async def scrape(server: LiveServer) -> Scrape:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{server.url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return Scrape(answer.text)


@pytest.mark.usefixtures("place")
async def test_frames_are_counted_by_direction_and_a_live_viewers_lag_is_observed(
    server: LiveServer, app: FastAPI
) -> None:
    metrics = metrics_of(app)
    agent, applet, number = await live_session(server)
    control, viewer, channel = await console_and_viewer(server, agent, applet, number)
    await viewer.send(HANDSHAKE + UPDATE_REQUEST)

    frames_in = metrics.value(FRAMES, direction="from_customer")
    bytes_in = metrics.value(BYTES, direction="from_customer")
    lag = metrics.value(LAG_COUNT, kind="rfb")
    screen = encode_frame(channel, SERVER_HELLO)
    await applet.socket.send(screen)
    assert await asyncio.wait_for(viewer.recv(), 5) == SERVER_HELLO
    assert metrics.value(FRAMES, direction="from_customer") >= frames_in + 1
    assert metrics.value(BYTES, direction="from_customer") >= bytes_in + len(screen)
    # The frame reached the viewer, so its wait was observed (0 if it went out at once).
    assert metrics.value(LAG_COUNT, kind="rfb") >= lag + 1

    frames_out = metrics.value(FRAMES, direction="to_customer")
    bytes_out = metrics.value(BYTES, direction="to_customer")
    await viewer.send(KEY_EVENT)  # the agent's key goes to the customer as a frame
    await applet.drain(0.3)
    assert bytes(applet.data[channel]).endswith(KEY_EVENT)
    assert metrics.value(FRAMES, direction="to_customer") >= frames_out + 1
    assert metrics.value(BYTES, direction="to_customer") >= bytes_out + len(KEY_EVENT)

    scraped = await scrape(server)
    assert scraped[FRAMES, {"direction": "from_customer"}] >= frames_in + 1
    assert scraped[LAG_COUNT, {"kind": "rfb"}] >= lag + 1
    assert scraped["supportdesk_viewer_queued_bytes", {"kind": "rfb"}] >= 0
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    await agent.close()


@pytest.mark.usefixtures("place")
async def test_a_session_held_by_a_full_disk_is_counted_and_shown_as_held(
    server: LiveServer, app: FastAPI, flaky: FlakyOS
) -> None:
    metrics = metrics_of(app)
    agent, applet, number = await live_session(server)
    control, viewer, channel = await console_and_viewer(server, agent, applet, number)
    await viewer.send(HANDSHAKE + UPDATE_REQUEST)
    await applet.socket.send(encode_frame(channel, SERVER_HELLO))
    assert await asyncio.wait_for(viewer.recv(), 5) == SERVER_HELLO
    holds = metrics.value("supportdesk_recording_holds_total")
    assert (await scrape(server))["supportdesk_sessions_held"] == 0

    flaky.full = True  # the next flush fails
    await applet.send({"type": "chat", "text": "Moment bitte"})
    await asyncio.wait_for(next_of(control, "state", held=True), 5)
    held = await _scrape_until(server, "supportdesk_recording_holds_total", holds + 1)
    assert held["supportdesk_sessions_held"] == 1
    # More bytes while held change nothing: one outage, one hold.
    await applet.socket.send(encode_frame(channel, b"sent while held"))
    await asyncio.sleep(0.3)
    assert (await scrape(server))["supportdesk_recording_holds_total"] == holds + 1

    flaky.full = False  # the disk takes writes again: the hold lifts
    await asyncio.wait_for(next_of(control, "state", held=False), 5)
    released = await _scrape_until(server, "supportdesk_sessions_held", 0)
    assert released["supportdesk_recording_holds_total"] == holds + 1
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    await agent.close()


async def _scrape_until(server: LiveServer, name: str, value: float) -> Scrape:
    """The first scrape in which ``name`` reads ``value`` (the audit commits a moment
    after the console hears of the hold)."""
    for _ in range(50):
        found = await scrape(server)
        if found[name] == value:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name} never became {value}")
