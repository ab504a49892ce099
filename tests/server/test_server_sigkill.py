"""Durability of the live path: the server SIGKILLed mid-session leaves the session's
recording readable, in order, up to about the last second of what it relayed."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from supportdesk.link.frames import encode_frame
from supportdesk.recording import RecordingReader, RecordKind
from tests.live_server import live_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    control_socket,
    join_token,
    next_of,
    open_viewer,
)

FILLER = bytes(range(256)) * 8  # a 2 KiB update


async def test_a_server_killed_mid_session_keeps_all_but_the_last_second(
    tmp_path: Path,
) -> None:
    with live_server(tmp_path) as server:
        await asyncio.to_thread(add_agent, server, "anna")
        agent = await AgentBrowser.log_in(server, "anna")
        key, number = await agent.new_session()
        applet = await FakeApplet.connect(server, await join_token(server, key))
        await applet.next_control("consent_request")
        await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
        control = await control_socket(await agent.control_url(number), server.url)
        await next_of(control, "state", state="active")
        viewer = await open_viewer(server, number, control)
        channel = (await applet.next_control("open"))["channel"]
        # The applet streams numbered updates for a few seconds, then the server dies.
        sent = 0
        began = time.monotonic()
        while time.monotonic() - began < 3:
            await applet.socket.send(encode_frame(channel, sent.to_bytes(8, "big") + FILLER))
            sent += 1
            await asyncio.sleep(0.01)
        killed_after = time.monotonic() - began
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        for socket in (viewer, control, applet.socket):
            await socket.close()
        await agent.close()

    (path,) = (tmp_path / "var" / "recordings").glob("*.sdrec")
    master_key = bytes.fromhex((tmp_path / "keys" / "recording-master.key").read_text())
    with RecordingReader(path, master_key) as reader:
        assert reader.consultation_number == number and not reader.closed_cleanly
        updates = [
            r.payload
            for r in reader.records(kinds={RecordKind.RFB_SERVER_TO_CLIENT}, channel=channel)
        ]
    numbers = [int.from_bytes(u[:8], "big") for u in updates]
    assert numbers == list(range(len(numbers))), "updates lost or reordered before the tail"
    assert all(u[8:] == FILLER for u in updates)
    # 100 updates a second were sent: at most about a second's worth is missing.
    kept_seconds = len(numbers) / sent * killed_after
    assert killed_after - kept_seconds < 1.5, f"kept {len(numbers)} of {sent} updates"
