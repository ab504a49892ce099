"""A server that stops mid-session lets the session go on: it seals the recording's
segment and closes every socket with 1012 ("service restart"), without ending the
session; started again, it takes the session up when the applet comes back with its
resume secret, and the audit trail tells the whole story in one valid chain."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from tests.server.in_process_server import desk, in_process_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    control_socket,
    join_token,
    next_of,
)


async def _trail(settings_url: str, number: str) -> list[tuple[str, dict[str, object]]]:
    engine = create_engine(settings_url)
    try:
        entries = await AuditLog(session_factory(engine)).for_subject(number)
    finally:
        await engine.dispose()
    return [(e.event_type, e.data) for e in entries]


async def test_a_restarted_server_takes_its_live_session_up_again(tmp_path: Path) -> None:
    async with in_process_server(tmp_path) as (server, app):
        await asyncio.to_thread(add_agent, server, "anna")
        agent = await AgentBrowser.log_in(server, "anna")
        key, number = await agent.new_session()
        applet = await FakeApplet.connect(server, await join_token(server, key))
        await applet.next_control("consent_request")
        await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
        secret = (await applet.next_control("resume"))["secret"]
        settings = desk(app).settings
        await agent.close()
    # Stopped with the applet connected: its link closes as a restart, not an end.
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await applet.socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    assert not any(m["type"] == "end" for m in applet.control)
    trail = await _trail(settings.database.url, number)
    assert "session.ended" not in [kind for kind, _ in trail]
    assert "recording_finished" in [kind for kind, _ in trail]

    async with in_process_server(tmp_path) as (server, app):
        url = server.url.replace("http", "ws", 1) + "/ws/applet"
        back = FakeApplet(
            await connect(url, additional_headers={"Authorization": f"Resume {number} {secret}"})
        )
        state = await back.next_control("state")
        assert state["state"] == "active" and state["customer_link"] == "connected"
        agent = await AgentBrowser.log_in(server, "anna")
        control = await control_socket(await agent.control_url(number), server.url)
        await next_of(control, "state", state="active", customer_link="connected")
        await control.send('{"type": "end"}')
        await back.next_control("end")
        await agent.close()
        await control.close()
    trail = await _trail(settings.database.url, number)
    kinds = [kind for kind, _ in trail]
    assert kinds.index("session.taken_over") < kinds.index("session.link_restored")
    assert [data["reason"] for kind, data in trail if kind == "session.ended"] == ["agent"]
    engine = create_engine(settings.database.url)
    try:
        assert (await AuditLog(session_factory(engine)).verify()).ok
    finally:
        await engine.dispose()
