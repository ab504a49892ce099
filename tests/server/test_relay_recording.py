"""Every live session is recorded by the relay, and nothing unrecorded reaches a viewer:
both RFB directions, control messages, chat and keyframes land in a recording that
verifies against the audited final hash; when the disk fails or the file cannot be
created the session is held for both sides, and it goes on when writing works again."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import struct
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection

import supportdesk.recording.writer as writer_module
import supportdesk.server.recordings.session_recording as session_recording_module
from supportdesk.domain.audit_chain import AuditEntry
from supportdesk.link.frames import encode_frame, encode_keyframe_pieces
from supportdesk.recording import RecordingReader, RecordKind, encode_keyframe, verify
from supportdesk.rfb import PixelFormat
from supportdesk.server.recordings.place import RecordingPlace
from supportdesk.store.recordings import Recordings
from tests.live_server import LiveServer
from tests.recording.test_fail_closed import FlakyOS
from tests.server.in_process_server import desk, in_process_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    control_socket,
    join_token,
    next_of,
    open_viewer,
)

HANDSHAKE = b"RFB 003.008\n\x01\x01"
KEY_EVENT = struct.pack(">BBxxI", 4, 1, 0x61)
UPDATE_REQUEST = struct.pack(">BBHHHH", 3, 0, 0, 0, 10, 10)
SERVER_HELLO = b"RFB 003.008\n"
NOVNC_FORMAT = PixelFormat(32, 24, False, True, 255, 255, 255, 0, 8, 16)
HELD_NOTICE = "Aufzeichnung nicht möglich – Sitzung pausiert"


@pytest.fixture(scope="module")
async def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LiveServer, FastAPI]]:
    async with in_process_server(tmp_path_factory.mktemp("relay-recording")) as (server, app):
        await asyncio.to_thread(add_agent, server, "anna")
        yield server, app


@pytest.fixture
def server(running: tuple[LiveServer, FastAPI]) -> LiveServer:
    return running[0]


@pytest.fixture
def app(running: tuple[LiveServer, FastAPI]) -> FastAPI:
    return running[1]


@pytest.fixture
def place(app: FastAPI, tmp_path: Path) -> Iterator[RecordingPlace]:
    """This test's recording folder, a keyframe every 0.3 s and quick retries."""
    hub = desk(app).relay
    before = hub.recordings
    hub.recordings = dataclasses.replace(
        before,
        directory=tmp_path / "recordings",
        keyframe_interval=0.3,
        retry_interval=0.2,
        probe_interval=0.2,
    )
    yield hub.recordings
    hub.recordings = before


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> FlakyOS:
    """The recording writer's file system, with a disk that can fill up."""
    fake = FlakyOS()
    monkeypatch.setattr(writer_module, "os", fake)
    return fake


async def live_session(server: LiveServer) -> tuple[AgentBrowser, FakeApplet, str]:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view", "control"]})
    return agent, applet, number


async def console_and_viewer(
    server: LiveServer, agent: AgentBrowser, applet: FakeApplet, number: str, **state: Any
) -> tuple[ClientConnection, ClientConnection, int]:
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active", **state)
    viewer = await open_viewer(server, number, control)
    channel = int((await applet.next_control("open"))["channel"])
    return control, viewer, channel


async def received(viewer: ClientConnection, within: float = 0.5) -> list[bytes]:
    """What reaches the viewer in a short while (nothing, where nothing may)."""
    got: list[bytes] = []
    try:
        while True:
            got.append(bytes(await asyncio.wait_for(viewer.recv(), within)))  # type: ignore[arg-type]
    except TimeoutError:
        return got


async def audit_entry(
    app: FastAPI, number: str, event_type: str, actor: str | None = None
) -> AuditEntry:
    for _ in range(100):
        for entry in await desk(app).audit.for_subject(number):
            if entry.event_type == event_type and actor in (None, entry.actor):
                return entry
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event_type} for {number}")


async def end_and_read(
    app: FastAPI, control: ClientConnection, applet: FakeApplet, number: str
) -> tuple[Path, list[Any]]:
    """End the session from the console; the verified recording and its records."""
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    finished = await audit_entry(app, number, "recording_finished")
    master_key = desk(app).settings.recording.master_key_bytes()
    path = desk(app).relay.recordings.directory / finished.data["file"]
    report = verify(path, master_key, finished.data["final_hash"])
    assert report.ok and report.closed_cleanly, report
    assert finished.data["size"] == path.stat().st_size
    async with desk(app).audit.work() as work:
        row = await Recordings(work.session).get(number)
    assert row is not None and row.final_hash == finished.data["final_hash"]
    with RecordingReader(path, master_key) as reader:
        return path, list(reader.records())


def payloads(records: list[Any], kind: RecordKind, channel: int | None = None) -> list[bytes]:
    return [
        r.payload for r in records if r.kind is kind and (channel is None or r.channel == channel)
    ]


def keyframe_payload() -> bytes:
    frame = np.zeros((16, 32, 3), dtype=np.uint8)
    frame[4:12, 8:24] = (200, 30, 30)
    return encode_keyframe(frame, NOVNC_FORMAT)


async def test_the_recording_holds_both_directions_control_chat_and_keyframes(
    server: LiveServer, app: FastAPI, place: RecordingPlace
) -> None:
    agent, applet, number = await live_session(server)
    control, viewer, channel = await console_and_viewer(server, agent, applet, number)
    # The relay asks the new channel for a keyframe (the applet sends it after its first update).
    assert await applet.next_control("keyframe") == {"type": "keyframe", "channel": channel}

    await viewer.send(HANDSHAKE + KEY_EVENT + UPDATE_REQUEST)
    await applet.socket.send(encode_frame(channel, SERVER_HELLO))
    assert await asyncio.wait_for(viewer.recv(), 5) == SERVER_HELLO
    # A keyframe in two pieces: recorded, never forwarded; the viewer's next bytes are
    # the RFB bytes that follow it.
    keyframe = keyframe_payload()
    for piece in (b"\x01" + keyframe[:40], b"\x00" + keyframe[40:]):
        await applet.socket.send(encode_frame(0x8000 | channel, piece))
    await applet.socket.send(encode_frame(channel, b"after the keyframe"))
    assert await asyncio.wait_for(viewer.recv(), 5) == b"after the keyframe"
    # ... and again at the cadence, every 0.3 s here (at least every 10 s in service).
    for _ in range(2):
        assert (await applet.next_control("keyframe"))["channel"] == channel
    (big,) = encode_keyframe_pieces(channel, keyframe)  # the applet's own framing
    await applet.socket.send(big)

    await control.send('{"type": "chat", "text": "Bitte klicken Sie auf Start."}')
    await applet.next_control("chat")
    await applet.send({"type": "chat", "text": "Erledigt – grüße!"})
    await next_of(control, "chat", **{"from": "customer"})
    await applet.drain(0.3)
    forwarded = bytes(applet.data[channel])
    assert forwarded == HANDSHAKE + KEY_EVENT + UPDATE_REQUEST

    _, records = await end_and_read(app, control, applet, number)
    assert b"".join(payloads(records, RecordKind.RFB_SERVER_TO_CLIENT, channel)) == (
        SERVER_HELLO + b"after the keyframe"
    )
    assert b"".join(payloads(records, RecordKind.RFB_CLIENT_TO_SERVER, channel)) == forwarded
    assert payloads(records, RecordKind.KEYFRAME, channel) == [keyframe, keyframe]
    # The first keyframe sits between the RFB bytes before and after it (rule K3).
    order = [r.payload for r in records if r.channel == channel and r.kind in (
        RecordKind.RFB_SERVER_TO_CLIENT, RecordKind.KEYFRAME)]  # fmt: skip
    assert order[:3] == [SERVER_HELLO, keyframe, b"after the keyframe"]
    controls = [json.loads(p) for p in payloads(records, RecordKind.CONTROL)]
    first = controls[0]  # the recording opens with the consented state
    assert (first["type"], first["state"], first["capabilities"]) == (
        "state",
        "active",
        ["control", "view"],
    )
    seen = {(c["from"], c["type"]) for c in controls}
    assert {
        ("relay", "state"),
        ("relay", "open"),
        ("relay", "keyframe"),
        ("console", "end"),
    } <= seen
    assert {("console", "viewer_ticket"), ("relay", "credit")} & seen
    assert all("customer_name" not in c for c in controls)  # the name lives in memory only
    chats = [json.loads(p) for p in payloads(records, RecordKind.CHAT)]
    assert [(c["from"], c["text"]) for c in chats] == [
        ("agent", "Bitte klicken Sie auf Start."),
        ("customer", "Erledigt – grüße!"),
    ]
    await agent.close()


async def test_a_full_disk_holds_the_session_for_both_sides_until_it_takes_writes(
    server: LiveServer, app: FastAPI, place: RecordingPlace, flaky: FlakyOS
) -> None:
    agent, applet, number = await live_session(server)
    control, viewer, channel = await console_and_viewer(server, agent, applet, number)
    await viewer.send(HANDSHAKE + UPDATE_REQUEST)
    await applet.socket.send(encode_frame(channel, SERVER_HELLO))
    assert await asyncio.wait_for(viewer.recv(), 5) == SERVER_HELLO

    flaky.full = True  # the next flush fails
    await applet.send({"type": "chat", "text": "Moment bitte"})
    held = await asyncio.wait_for(next_of(control, "state", held=True), 5)
    assert held["paused"] and held["state"] == "active" and held["notice"] == HELD_NOTICE
    for _ in range(20):
        told = await applet.next_control("state")
        if told.get("held"):
            break
    assert told["paused"] and told["notice"] == HELD_NOTICE

    # Bytes still in flight from the applet are recorded and held back; the agent's
    # keys do not pass the gate.
    await applet.socket.send(encode_frame(channel, b"sent while held"))
    await viewer.send(KEY_EVENT + UPDATE_REQUEST)
    assert await received(viewer) == []
    # Neither party can lift the hold: the customer's pause and resume leave it held.
    await applet.send({"type": "pause"})
    await next_of(control, "state", state="paused", held=True)
    await applet.send({"type": "resume"})
    still = await next_of(control, "state", state="active")
    assert still["held"] and still["paused"]
    assert await received(viewer, 0.3) == []

    flaky.full = False  # the disk takes writes again: the hold lifts
    resumed = await asyncio.wait_for(next_of(control, "state", held=False), 5)
    assert not resumed["paused"] and resumed["notice"] is None
    assert await asyncio.wait_for(viewer.recv(), 5) == b"sent while held"
    await applet.drain(0.3)
    assert bytes(applet.data[channel]) == HANDSHAKE + UPDATE_REQUEST + UPDATE_REQUEST

    paused = await audit_entry(app, number, "session.paused", "system")
    resumed_entry = await audit_entry(app, number, "session.resumed", "system")
    assert paused.data["cause"] == "recording_unavailable"
    assert "No space left on device" in paused.data["problem"]
    assert resumed_entry.data == {"cause": "recording_available"}

    _, records = await end_and_read(app, control, applet, number)
    assert b"".join(payloads(records, RecordKind.RFB_SERVER_TO_CLIENT, channel)) == (
        SERVER_HELLO + b"sent while held"
    )
    assert [json.loads(p)["text"] for p in payloads(records, RecordKind.CHAT)] == ["Moment bitte"]
    await agent.close()


async def test_a_recording_that_cannot_be_created_holds_the_session_from_the_start(
    server: LiveServer, app: FastAPI, place: RecordingPlace, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the recordings' folder should be")
    desk(app).relay.recordings = dataclasses.replace(place, directory=blocker / "recordings")
    agent, applet, number = await live_session(server)
    control, viewer, channel = await console_and_viewer(server, agent, applet, number, held=True)
    await viewer.send(HANDSHAKE + UPDATE_REQUEST)
    await applet.socket.send(encode_frame(channel, SERVER_HELLO))
    assert await received(viewer) == []  # nothing unrecorded reaches a viewer ...
    await applet.drain(0.3)
    assert channel not in applet.data  # ... nor reaches the applet

    blocker.unlink()  # the folder can be made now
    resumed = await asyncio.wait_for(next_of(control, "state", held=False), 5)
    assert not resumed["paused"]
    assert await asyncio.wait_for(viewer.recv(), 5) == SERVER_HELLO
    await applet.drain(0.3)
    assert bytes(applet.data[channel]) == HANDSHAKE + UPDATE_REQUEST
    paused = await audit_entry(app, number, "session.paused", "system")
    assert "cannot create recording" in paused.data["problem"]

    _, records = await end_and_read(app, control, applet, number)
    assert payloads(records, RecordKind.RFB_SERVER_TO_CLIENT, channel) == [SERVER_HELLO]
    assert b"".join(payloads(records, RecordKind.RFB_CLIENT_TO_SERVER, channel)) == (
        HANDSHAKE + UPDATE_REQUEST
    )
    await agent.close()


async def test_a_session_never_recorded_ends_with_recording_failed(
    server: LiveServer, app: FastAPI, place: RecordingPlace, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    desk(app).relay.recordings = dataclasses.replace(place, directory=blocker / "recordings")
    agent, applet, number = await live_session(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active", held=True)
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    failed = await audit_entry(app, number, "recording_failed")
    assert "cannot create recording" in failed.data["reason"]
    assert "file" not in failed.data
    await agent.close()


async def test_a_recording_that_cannot_be_closed_is_audited_as_failed(
    server: LiveServer, app: FastAPI, place: RecordingPlace, flaky: FlakyOS
) -> None:
    agent, applet, number = await live_session(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active", held=False)
    await audit_entry(app, number, "recording_started")
    flaky.full = True
    await applet.send({"type": "chat", "text": "Hallo?"})
    await asyncio.wait_for(next_of(control, "state", held=True), 5)
    await control.send('{"type": "end"}')  # the disk is still full
    await applet.next_control("end")
    failed = await audit_entry(app, number, "recording_failed")
    assert "No space left on device" in failed.data["reason"]
    assert failed.data["file"] == f"{number}.sdrec"
    assert not [e for e in await desk(app).audit.for_subject(number) if
                e.event_type == "recording_finished"]  # fmt: skip
    await agent.close()


async def test_the_applet_hears_the_end_even_while_its_own_message_is_in_hand(
    server: LiveServer, app: FastAPI, place: RecordingPlace, flaky: FlakyOS
) -> None:
    # The customer's line and the agent's "end" cross (here while the recording is
    # held, which makes the chat's path longer); the applet must still get "end".
    for _ in range(4):
        agent, applet, number = await live_session(server)
        control = await control_socket(await agent.control_url(number), server.url)
        await next_of(control, "state", state="active")
        flaky.full = True
        await applet.send({"type": "chat", "text": "Hallo?"})
        await asyncio.wait_for(next_of(control, "state", held=True), 5)
        await control.send('{"type": "end"}')
        assert (await applet.next_control("end"))["reason"] == "agent"
        await agent.close()
        flaky.full = False


async def test_a_viewer_that_opens_while_the_recording_is_created_gets_its_keyframe(
    server: LiveServer, app: FastAPI, place: RecordingPlace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session turns active before its recording file exists (creating it writes the
    register); a viewer that opens in between was asked for no keyframe until the next
    tick (10 s in service), so a short session had none, and the applet's first bytes
    for it were held back for good."""
    hub = desk(app).relay
    hub.recordings = dataclasses.replace(place, keyframe_interval=60.0)
    created = asyncio.Event()
    register = session_recording_module.register_segment

    async def slow_register(*args: Any) -> None:
        await created.wait()
        await register(*args)

    monkeypatch.setattr(session_recording_module, "register_segment", slow_register)
    agent, applet, number = await live_session(server)
    control, viewer, channel = await console_and_viewer(server, agent, applet, number)
    await viewer.send(HANDSHAKE)
    await applet.socket.send(encode_frame(channel, SERVER_HELLO))  # before the file exists
    await applet.drain(0.3)
    assert not [m for m in applet.control if m.get("type") == "keyframe"]
    created.set()
    asked = await asyncio.wait_for(applet.next_control("keyframe"), 10)  # not the 60 s tick
    assert asked == {"type": "keyframe", "channel": channel}
    assert await asyncio.wait_for(viewer.recv(), 5) == SERVER_HELLO
    _, records = await end_and_read(app, control, applet, number)
    assert payloads(records, RecordKind.RFB_SERVER_TO_CLIENT, channel) == [SERVER_HELLO]
    await agent.close()
