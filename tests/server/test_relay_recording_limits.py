"""What one customer can make the relay write, against the real server: nothing on a
channel without a viewer (the link ends), at most the session's quota (the session
ends, audited, and what was recorded verifies), and no faster than the session's
byte rate, while another session's screen keeps flowing."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from supportdesk.link.frames import encode_frame
from supportdesk.recording import RecordingReader, RecordKind, verify
from supportdesk.recording.budget import MIB, BudgetLimits
from supportdesk.server.recordings.place import RecordingPlace
from tests.live_server import LiveServer
from tests.server.in_process_server import desk, in_process_server
from tests.server.relay_parties import FakeApplet, add_agent, control_socket, next_of
from tests.server.test_relay_recording import (
    SERVER_HELLO,
    audit_entry,
    console_and_viewer,
    live_session,
)

FRAME = 256 * 1024


@pytest.fixture(scope="module")
async def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LiveServer, FastAPI]]:
    async with in_process_server(tmp_path_factory.mktemp("recording-limits")) as (server, app):
        await asyncio.to_thread(add_agent, server, "anna")
        yield server, app


@pytest.fixture
def server(running: tuple[LiveServer, FastAPI]) -> LiveServer:
    return running[0]


@pytest.fixture
def app(running: tuple[LiveServer, FastAPI]) -> FastAPI:
    return running[1]


@pytest.fixture
def place(app: FastAPI, tmp_path: Path) -> Iterator[None]:
    """This test's recording folder; :func:`use` sets its limits."""
    hub = desk(app).relay
    before = hub.recordings
    hub.recordings = dataclasses.replace(before, directory=tmp_path / "recordings")
    yield
    hub.recordings = before


def use(app: FastAPI, limits: BudgetLimits) -> RecordingPlace:
    hub = desk(app).relay
    hub.recordings = dataclasses.replace(hub.recordings, limits=limits)
    return hub.recordings


async def closed_by_relay(applet: FakeApplet, within: float = 15) -> Close:
    """How the relay closed the link (it must, within ``within`` seconds)."""

    async def until_closed() -> Close:
        try:
            while True:
                await applet.socket.recv()
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "the relay sent no close frame"
            return closed.rcvd

    return await asyncio.wait_for(until_closed(), within)


async def flood(applet: FakeApplet, channel: int, total: int) -> int:
    """Send ``total`` bytes of RFB on ``channel`` within the credit the relay returns, as
    the real program does; returns what was sent before the link or the session ended."""
    credit, sent = 1024 * 1024, 0
    try:
        while sent < total:
            while credit < FRAME:
                message = await applet.next_control("credit")
                if message.get("channel") == channel:
                    credit += int(message["bytes"])
            await applet.socket.send(encode_frame(channel, os.urandom(FRAME)))
            credit -= FRAME
            sent += FRAME
    except ConnectionClosed:
        pass
    return sent


def recorded(path: Path, app: FastAPI, kind: RecordKind, channel: int) -> int:
    master_key = desk(app).settings.recording.master_key_bytes()
    with RecordingReader(path, master_key) as reader:
        return sum(
            len(r.payload) for r in reader.records() if r.kind is kind and r.channel == channel
        )


async def test_data_on_a_channel_without_a_viewer_ends_the_link_and_is_not_recorded(
    app: FastAPI, server: LiveServer, place: None
) -> None:
    agent, applet, number = await live_session(server)  # view only, and no viewer open
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    with contextlib.suppress(ConnectionClosed):
        for _ in range(256):  # the 64 MiB that went into a view-only session's recording
            await applet.socket.send(encode_frame(5, os.urandom(FRAME)))
    close = await closed_by_relay(applet)
    assert close.code == 4400 and "no viewer" in close.reason
    # A broken protocol is no network trouble: the session is over, not waiting.
    ended = await asyncio.wait_for(next_of(control, "state", state="ended"), 10)
    assert ended["end_reason"] == "error"
    finished = await audit_entry(app, number, "recording_finished")
    path = desk(app).relay.recordings.directory / finished.data["file"]
    assert recorded(path, app, RecordKind.RFB_SERVER_TO_CLIENT, 5) == 0
    assert path.stat().st_size < 1 * MIB
    await agent.close()


async def test_a_keyframe_for_a_channel_that_never_had_a_viewer_ends_the_link(
    server: LiveServer, place: None
) -> None:
    agent, applet, _ = await live_session(server)
    await applet.next_control("state")
    await applet.socket.send(encode_frame(0x8000 | 9, b"\x00" + os.urandom(1000)))
    assert (await closed_by_relay(applet)).code == 4400
    await agent.close()


async def test_the_quota_ends_the_session_audited_with_the_recording_verifiable(
    app: FastAPI, server: LiveServer, place: None
) -> None:
    use(app, BudgetLimits(quota_bytes=3 * MIB, rate_bytes=1024 * MIB, burst_bytes=1024 * MIB))
    agent, applet, number = await live_session(server)
    control, viewer, channel = await console_and_viewer(server, agent, applet, number)
    await applet.socket.send(encode_frame(channel, SERVER_HELLO))
    reader = asyncio.create_task(_read_all(viewer))
    sent = await asyncio.wait_for(flood(applet, channel, 64 * MIB), 60)
    assert sent < 8 * MIB  # the flood was stopped near the quota, not at 64 MiB
    ended = await asyncio.wait_for(next_of(control, "state", state="ended"), 10)
    assert ended["end_reason"] == "recording_limit"
    ends = [m for m in applet.control if m.get("type") == "end"]
    assert [m["reason"] for m in ends] == ["recording_limit"]  # (with the survey's token)
    reached = await audit_entry(app, number, "recording_limit_reached")
    assert reached.data["quota_bytes"] == 3 * MIB
    finished = await audit_entry(app, number, "recording_finished")
    master_key = desk(app).settings.recording.master_key_bytes()
    path = desk(app).relay.recordings.directory / finished.data["file"]
    report = verify(path, master_key, finished.data["final_hash"])
    assert report.ok and report.closed_cleanly, report
    kept = recorded(path, app, RecordKind.RFB_SERVER_TO_CLIENT, channel)
    assert 3 * MIB - FRAME <= kept <= 3 * MIB + FRAME
    reader.cancel()
    await agent.close()


async def test_a_flooding_session_is_held_to_its_rate_and_another_keeps_flowing(
    app: FastAPI, server: LiveServer, place: None
) -> None:
    rate = 1 * MIB
    use(app, BudgetLimits(quota_bytes=1024 * MIB, rate_bytes=rate, burst_bytes=1 * MIB))
    agent_a, flooder, number_a = await live_session(server)
    control_a, viewer_a, channel_a = await console_and_viewer(server, agent_a, flooder, number_a)
    agent_b, calm, number_b = await live_session(server)
    control_b, viewer_b, channel_b = await console_and_viewer(server, agent_b, calm, number_b)
    await flooder.socket.send(encode_frame(channel_a, SERVER_HELLO))
    await calm.socket.send(encode_frame(channel_b, SERVER_HELLO))
    drain_a = asyncio.create_task(_read_all(viewer_a))
    await viewer_b.recv()  # the hello

    started = asyncio.get_running_loop().time()
    flooding = asyncio.create_task(flood(flooder, channel_a, 1024 * MIB))
    # While the flood runs, the calm session's updates each reach its viewer.
    for n in range(20):
        update = f"update {n}".encode()
        await calm.socket.send(encode_frame(channel_b, update))
        assert await asyncio.wait_for(viewer_b.recv(), 10) == update
    await asyncio.sleep(1.0)
    elapsed = asyncio.get_running_loop().time() - started
    flooding.cancel()
    written = desk(app).relay.get(number_a)
    assert written is not None
    used = written.recording.meter.budget.used
    # Held to burst + rate x time (and what was in flight: one credit window, the inbox).
    assert used <= 1 * MIB + rate * elapsed + 6 * MIB
    limited = await audit_entry(app, number_a, "recording_rate_limited")
    assert limited.data["bytes_per_second"] == rate
    entries = await desk(app).audit.for_subject(number_b)
    assert "recording_rate_limited" not in {e.event_type for e in entries}
    drain_a.cancel()
    for control in (control_a, control_b):
        await control.send('{"type": "end"}')
    await agent_a.close()
    await agent_b.close()


async def _read_all(socket: object) -> None:
    recv = socket.recv  # type: ignore[attr-defined]
    while True:
        await recv()
