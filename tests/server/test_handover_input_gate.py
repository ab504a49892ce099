"""After a hand-over the previous owner's keyboard no longer reaches the customer: RFB
viewers on the real relay, the applet's side reading what the relay forwards. The
old owner's KeyEvent is dropped (her viewer reopened view-only, and, with that reopening
switched off, by the relay's gate asking the team on every message), while her
screen-update requests still pass; the new owner's KeyEvent passes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from supportdesk.server.relay import team_side
from supportdesk.server.state import Desk
from supportdesk.store.agents import AgentAccounts
from tests.live_server import LiveServer
from tests.server.in_process_server import in_process_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    control_socket,
    join_token,
    next_of,
    open_viewer,
)

HANDSHAKE = b"RFB 003.008\n\x01\x01"  # version, security type None, ClientInit shared
UPDATE_REQUEST = struct.pack(">BBHHHH", 3, 1, 0, 0, 10, 10)


def key_event(keysym: int) -> bytes:
    return struct.pack(">BBxxI", 4, 1, keysym)


@pytest.fixture(scope="module")
async def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LiveServer, Desk]]:
    async with in_process_server(tmp_path_factory.mktemp("handover-gate")) as (running, app):
        for name in ("anna", "bernd"):
            await asyncio.to_thread(add_agent, running, name)
        yield running, app.state.desk


async def viewer_of(
    server: LiveServer, number: str, control: ClientConnection, applet: FakeApplet
) -> tuple[ClientConnection, int, bool]:
    """A viewer, its channel on the applet link, and whether it opened view-only."""
    viewer = await open_viewer(server, number, control)
    opened = await applet.next_control("open")
    return viewer, int(opened["channel"]), bool(opened["view_only"])


async def forwarded(applet: FakeApplet, channel: int, expected: bytes = b"") -> bytes:
    """What the relay forwarded on ``channel``: once at least as much as ``expected``
    came (a slow machine), and a moment more for anything that should not have."""
    for _ in range(50):
        if len(applet.data.get(channel, b"")) >= len(expected):
            break
        await applet.drain(0.2)
    await applet.drain(0.3)
    return bytes(applet.data.get(channel, b""))


@dataclass
class HandedOver:
    """A session Anna handed to Bernd, watching on."""

    applet: FakeApplet
    number: str
    anna_control: ClientConnection
    anna_viewer: ClientConnection  # opened while she owned the session
    anna_channel: int
    bernd: AgentBrowser


async def handed_to_bernd(server: LiveServer, desk: Desk) -> HandedOver:
    """Anna's session with control granted, her viewer typing; then handed to Bernd
    with Anna watching on."""
    anna = await AgentBrowser.log_in(server, "anna")
    key, number = await anna.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view", "control"]})
    control = await control_socket(await anna.control_url(number), server.url)
    await next_of(control, "state", state="active")
    viewer, channel, view_only = await viewer_of(server, number, control, applet)
    assert not view_only
    await viewer.send(HANDSHAKE + key_event(0x61))
    # Anna types while she owns the session: it reaches the customer.
    typed = HANDSHAKE + key_event(0x61)
    assert await forwarded(applet, channel, typed) == typed

    bernd = await AgentBrowser.log_in(server, "bernd")
    async with desk.sessions() as db:
        target = await AgentAccounts(db).by_username("bernd")
    assert target is not None
    await control.send(
        json.dumps(
            {"type": "hand_over", "agent": target.id, "owner": "agent:anna", "keep_watching": True}
        )
    )
    notice = await applet.next_control("agent_notice")
    assert (notice["change"], notice["agent_name"]) == ("took_over", "Bernd")
    relay = desk.relay.get(number)
    assert relay is not None and relay.session.agent_id == "agent:bernd"
    await anna.close()
    return HandedOver(applet, number, control, viewer, channel, bernd)


async def bernd_types(
    server: LiveServer, number: str, applet: FakeApplet, bernd: AgentBrowser
) -> ClientConnection:
    """Bernd's viewer: not view-only, and his KeyEvent reaches the customer."""
    control = await control_socket(await bernd.control_url(number), server.url)
    await next_of(control, "state", state="active")
    viewer, channel, view_only = await viewer_of(server, number, control, applet)
    assert not view_only
    typed = HANDSHAKE + key_event(0x63) + UPDATE_REQUEST
    await viewer.send(typed)
    assert await forwarded(applet, channel, typed) == typed
    return control


async def test_the_old_owners_keys_are_dropped_and_the_new_owners_pass(
    served: tuple[LiveServer, Desk],
) -> None:
    server, desk = served
    handed = await handed_to_bernd(server, desk)
    applet, old_viewer, old_channel = handed.applet, handed.anna_viewer, handed.anna_channel
    # Her viewer had control: it is reopened with what she may do now. A key sent on it
    # meanwhile reaches nobody.
    with contextlib.suppress(ConnectionClosed):
        await old_viewer.send(key_event(0x62))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(old_viewer.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == team_side.RECONNECT_CODE
    assert await forwarded(applet, old_channel) == HANDSHAKE + key_event(0x61)
    # Watching on, her new viewer is view-only: keys dropped, update requests pass.
    viewer, channel, view_only = await viewer_of(server, handed.number, handed.anna_control, applet)
    assert view_only
    await viewer.send(HANDSHAKE + key_event(0x62) + UPDATE_REQUEST + key_event(0x62))
    assert await forwarded(applet, channel, HANDSHAKE + UPDATE_REQUEST) == (
        HANDSHAKE + UPDATE_REQUEST
    )
    control = await bernd_types(server, handed.number, applet, handed.bernd)
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    await handed.bernd.close()


async def test_the_gate_asks_the_team_on_every_message(
    served: tuple[LiveServer, Desk], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the reopening, Anna's viewer stays open as it was opened (with
    control): the relay's gate alone keeps her keys from the customer."""

    async def keep_viewers(_relay: object) -> None:
        return None

    monkeypatch.setattr(team_side, "_reopen_viewers", keep_viewers)
    server, desk = served
    handed = await handed_to_bernd(server, desk)
    applet, old_viewer, old_channel = handed.applet, handed.anna_viewer, handed.anna_channel
    await old_viewer.send(key_event(0x62) + UPDATE_REQUEST + key_event(0x62))
    only_updates = HANDSHAKE + key_event(0x61) + UPDATE_REQUEST
    assert await forwarded(applet, old_channel, only_updates) == only_updates
    control = await bernd_types(server, handed.number, applet, handed.bernd)
    # Still dropped after Bernd typed: the gate is not a moment's race.
    await old_viewer.send(key_event(0x64) + UPDATE_REQUEST)
    only_updates += UPDATE_REQUEST
    assert await forwarded(applet, old_channel, only_updates) == only_updates
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    await handed.bernd.close()
