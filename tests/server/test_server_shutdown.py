"""A server that stops mid-session ends the session on the record and seals its
recording: the audit trail says why it ended and holds the recording's final hash.
(Stopping closes every WebSocket first; the relay would wait for the customer's link
to come back, so the server ends every session it relays before the database goes
away.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

from supportdesk.recording import verify
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from tests.server.in_process_server import desk, in_process_server
from tests.server.relay_parties import AgentBrowser, FakeApplet, add_agent, join_token


async def test_stopping_the_server_ends_live_sessions_and_seals_their_recordings(
    tmp_path: Path,
) -> None:
    async with in_process_server(tmp_path) as (server, app):
        await asyncio.to_thread(add_agent, server, "anna")
        agent = await AgentBrowser.log_in(server, "anna")
        key, number = await agent.new_session()
        applet = await FakeApplet.connect(server, await join_token(server, key))
        await applet.next_control("consent_request")
        await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
        await applet.next_control("state")
        settings = desk(app).settings
        await agent.close()
    # The server has stopped with the applet still connected.

    engine = create_engine(settings.database.url)
    try:
        entries = await AuditLog(session_factory(engine)).for_subject(number)
    finally:
        await engine.dispose()
    ended = [e for e in entries if e.event_type == "session.ended"]
    assert [e.data["reason"] for e in ended] == ["error"]
    finished = [e for e in entries if e.event_type == "recording_finished"]
    assert len(finished) == 1, [e.event_type for e in entries]
    path = settings.recording.directory / finished[0].data["file"]
    report = verify(path, settings.recording.master_key_bytes(), finished[0].data["final_hash"])
    assert report.ok and report.closed_cleanly, report
    await applet.socket.close()
