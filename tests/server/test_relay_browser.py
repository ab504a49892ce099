"""A browser's link through the real relay: upgrade rules, consent on the text the page
showed, the video channel fanned out to viewers, key chunks, the agent's pointer, and
what a browser link or a watcher may not do."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from supportdesk.domain.consent import BROWSER_CONSENT_VERSION, Language
from supportdesk.domain.consent_texts import consent_text
from supportdesk.link.frames import encode_frame
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    audit_entries,
    control_socket,
    join_token,
    next_of,
)

LINK = "supportdesk.link.v1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("relay-browser")) as running:
        add_agent(running, "anna")
        add_agent(running, "sven", "supervisor")
        add_agent(running, "svea", "supervisor")  # each logs in once: TOTP enrolment
        yield running


def chunk(key: bool, at_us: int, data: bytes = b"\x00\x00\x00\x01\x65frame") -> bytes:
    return struct.pack(">BQ", 1 if key else 0, at_us) + data


async def browser_link(server: LiveServer, token: str, origin: str | None = None) -> FakeApplet:
    socket = await connect(
        server.url.replace("http", "ws", 1) + "/ws/browser",
        subprotocols=[LINK, f"token.{token}"],  # type: ignore[list-item]
        additional_headers={"Origin": origin or server.url},
    )
    assert socket.subprotocol == LINK
    return FakeApplet(socket)


async def consented(server: LiveServer) -> tuple[AgentBrowser, FakeApplet, str]:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    browser = await browser_link(server, await join_token(server, key))
    request = await browser.next_control("consent_request")
    await browser.send(
        {
            "type": "consent",
            "decision": "yes",
            "consent_version": request["consent_version"],
            "consent_sha256": request["consent_sha256"],
        }
    )
    return agent, browser, number


async def video_viewer(
    server: LiveServer, number: str, control: ClientConnection
) -> ClientConnection:
    await control.send('{"type": "viewer_ticket"}')
    ticket = (await next_of(control, "viewer_ticket"))["ticket"]
    return await connect(
        server.url.replace("http", "ws", 1) + f"/ws/video/{number}?ticket={ticket}",
        additional_headers={"Origin": server.url},
    )


async def test_the_browser_link_needs_the_bank_origin_a_subprotocol_and_a_token(
    server: LiveServer,
) -> None:
    agent = await AgentBrowser.log_in(server, "anna")
    key, _ = await agent.new_session()
    token = await join_token(server, key)
    url = server.url.replace("http", "ws", 1) + "/ws/browser"
    refused = [
        {"subprotocols": [LINK, f"token.{token}"], "additional_headers": {"Origin": "https://evil.example"}},
        {"subprotocols": [LINK, f"token.{token}"]},  # no Origin at all
        {"subprotocols": [f"token.{token}"], "additional_headers": {"Origin": server.url}},
        {"subprotocols": [LINK, "token.forged"], "additional_headers": {"Origin": server.url}},
    ]  # fmt: skip
    for options in refused:
        with pytest.raises(InvalidStatus):
            await connect(url, **options)  # type: ignore[arg-type]
    # None of the refusals spent the token: it opens the link once.
    link = await browser_link(server, token)
    request = await link.next_control("consent_request")
    assert request["mode"] == "browser"
    assert request["capabilities"] == ["view"]
    shown = consent_text(BROWSER_CONSENT_VERSION, Language.DE).render("Anna")
    assert (request["consent_version"], request["consent_sha256"]) == (shown.version, shown.sha256)
    assert request["consent_text"] == shown.text
    await link.socket.close()
    with pytest.raises(InvalidStatus):
        await browser_link(server, token)


async def test_consent_on_another_text_than_requested_is_a_refusal(server: LiveServer) -> None:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    link = await browser_link(server, await join_token(server, key))
    await link.next_control("consent_request")
    await link.send({"type": "consent", "decision": "yes", "consent_sha256": "0" * 64})
    state = await link.next_control("state")
    assert state["state"] == "declined"
    assert state["declined_reason"] == "text_mismatch"
    declined = [e for e in audit_entries(server, number) if e["event_type"] == "consent.declined"]
    assert declined[0]["data"]["reason"] == "text_mismatch"


async def test_a_cancelled_picker_declines_and_the_console_is_told_why(server: LiveServer) -> None:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    token = await join_token(server, key)
    control = await control_socket(await agent.control_url(number), server.url)
    link = await browser_link(server, token)
    await link.next_control("consent_request")
    await link.send({"type": "consent", "decision": "no", "reason": "picker_cancelled"})
    state = await next_of(control, "state", state="declined")
    assert state["declined_reason"] == "picker_cancelled"
    assert state["link"] == "browser"
    events = [e["event_type"] for e in audit_entries(server, number)]
    assert "consent.declined" in events and "recording_started" not in events


async def test_video_reaches_every_viewer_from_a_key_chunk_and_credit_returns(
    server: LiveServer,
) -> None:
    agent, link, number = await consented(server)
    control = await control_socket(await agent.control_url(number), server.url)
    state = await next_of(control, "state", state="active")
    assert state["capabilities"] == ["view"] and state["link"] == "browser"
    await link.next_control("keyframe")  # the recording's first seek point
    await link.send({"type": "video_config", "codec": "avc1.640028", "width": 1024, "height": 768})
    viewer = await video_viewer(server, number, control)
    assert json.loads(await viewer.recv()) == {
        "type": "config", "codec": "avc1.640028", "width": 1024, "height": 768,
    }  # fmt: skip
    await link.next_control("keyframe")  # the new viewer needs a key chunk
    await link.socket.send(encode_frame(1, chunk(False, 1)))  # a delta: useless to it
    await link.socket.send(encode_frame(1, chunk(True, 2)))
    await link.socket.send(encode_frame(1, chunk(False, 3)))
    assert await viewer.recv() == chunk(True, 2)
    assert await viewer.recv() == chunk(False, 3)
    async with asyncio.timeout(10):  # a state sent before the viewer joined may come first
        watched = await next_of(control, "state")
        while not watched["watchers"]:
            watched = await next_of(control, "state")
    assert [w["name"] for w in watched["watchers"]] == ["Anna"]
    # A decoder that fails asks for a key chunk; the browser gets the request.
    await viewer.send('{"type": "keyframe"}')
    await link.next_control("keyframe")
    # Credit comes back in quarter windows, as on the applet link.
    big = chunk(False, 4, b"\x00" * 300_000)
    await link.socket.send(encode_frame(1, big))
    credit = await link.next_control("credit")
    assert credit["channel"] == 1 and credit["bytes"] >= 256 * 1024
    await link.send({"type": "end"})
    with pytest.raises(ConnectionClosed):
        while True:
            await viewer.recv()


async def test_a_browser_link_cannot_do_what_only_the_program_can(server: LiveServer) -> None:
    for forbidden in (
        {"type": "grant", "capability": "control"},
        {"type": "file_offer", "id": "x", "name": "a.txt", "size": 1},
        {"type": "diagnostics_report", "report": {}},
    ):
        agent, link, number = await consented(server)
        control = await control_socket(await agent.control_url(number), server.url)
        await next_of(control, "state", state="active")
        await link.send(forbidden)
        ended = await next_of(control, "state", state="ended")
        assert ended["end_reason"] == "error"
        events = [e["event_type"] for e in audit_entries(server, number)]
        assert "capability.granted" not in events
    # RFB on any other channel is refused the same way.
    agent, link, number = await consented(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    await link.socket.send(encode_frame(2, b"RFB 003.008\n"))
    await next_of(control, "state", state="ended")


async def test_an_rfb_viewer_is_refused_on_a_browser_session(server: LiveServer) -> None:
    agent, _link, number = await consented(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    await control.send('{"type": "viewer_ticket"}')
    ticket = (await next_of(control, "viewer_ticket"))["ticket"]
    viewer = await connect(
        server.url.replace("http", "ws", 1) + f"/ws/viewer/{number}?ticket={ticket}",
        additional_headers={"Origin": server.url},
    )
    with pytest.raises(ConnectionClosed) as closed:
        await viewer.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409


async def test_the_agent_points_the_watcher_cannot_and_nonsense_is_dropped(
    server: LiveServer,
) -> None:
    agent, link, number = await consented(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    supervisor = await AgentBrowser.log_in(server, "sven")
    watching = await control_socket(await supervisor.control_url(number), server.url)
    await next_of(watching, "state")
    await watching.send(json.dumps({"type": "pointer", "x": 0.9, "y": 0.9, "down": True}))
    for nonsense in ({"x": 2, "y": 0.5}, {"x": "0.5", "y": 0.5}, {"x": True, "y": 0.5}):
        await control.send(json.dumps({"type": "pointer", **nonsense}))
    await control.send(json.dumps({"type": "pointer", "x": 0.25, "y": 0.5, "down": True}))
    point = await link.next_control("pointer")
    assert point == {"type": "pointer", "x": 0.25, "y": 0.5, "down": True}
    # A flood is cut to 30 a second.
    for i in range(100):
        await control.send(json.dumps({"type": "pointer", "x": i / 100, "y": 0.5}))
    await control.send('{"type": "chat", "text": "fertig"}')
    await link.next_control("chat")
    pointers = [m for m in link.control if m["type"] == "pointer"]
    assert 2 <= len(pointers) <= 31


async def test_a_watcher_crafting_bytes_on_the_video_socket_is_cut_off(server: LiveServer) -> None:
    agent, link, number = await consented(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    supervisor = await AgentBrowser.log_in(server, "svea")
    watching = await control_socket(await supervisor.control_url(number), server.url)
    viewer = await video_viewer(server, number, watching)
    await viewer.send(b"\x04\x01\x00\x00\x00\x00\x00\x61")  # an RFB KeyEvent
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await viewer.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    # The session goes on.
    await link.send({"type": "chat", "text": "noch da"})
    assert (await next_of(control, "chat"))["text"] == "noch da"


async def test_paused_video_reaches_no_viewer(server: LiveServer) -> None:
    agent, link, number = await consented(server)
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    await link.send({"type": "video_config", "codec": "vp8", "width": 640, "height": 480})
    viewer = await video_viewer(server, number, control)
    await viewer.recv()  # config
    await link.send({"type": "pause"})
    await next_of(control, "state", state="paused")
    await link.socket.send(encode_frame(1, chunk(True, 5)))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(viewer.recv(), timeout=0.5)
    await link.send({"type": "resume"})
    await next_of(control, "state", state="active")
    await link.socket.send(encode_frame(1, chunk(True, 6)))
    assert await viewer.recv() == chunk(True, 6)
