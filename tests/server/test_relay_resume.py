"""A consented session survives a dropped customer link: the relay waits out the grace,
takes the customer back with the resume secret, asks for consent again after a long
gap, and ends with ``connection_lost`` when nobody comes back. Real server, real
sockets, shortened times."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from supportdesk.link.frames import encode_control
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    audit_entries,
    control_socket,
    join_token,
    next_of,
    open_viewer,
)
from tests.server.test_relay_browser import browser_link

GRACE, RECONSENT, SILENCE = 4.0, 1.5, 2.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("resume"),
        SUPPORTDESK_SESSION_RECONNECT_GRACE_SECONDS=str(GRACE),
        SUPPORTDESK_SESSION_RECONSENT_AFTER_SECONDS=str(RECONSENT),
        SUPPORTDESK_SESSION_LINK_TIMEOUT_SECONDS=str(SILENCE),
    ) as running:
        add_agent(running, "anna")
        yield running


class Customer:
    """A consented applet link, with the agent's control socket beside it."""

    def __init__(self, agent: AgentBrowser, number: str, control: ClientConnection) -> None:
        self.agent, self.number, self.control = agent, number, control
        self.applet: FakeApplet | None = None
        self.secret = ""

    @classmethod
    async def consented(cls, server: LiveServer) -> Customer:
        agent = await AgentBrowser.log_in(server, "anna")
        key, number = await agent.new_session()
        token = await join_token(server, key)
        control = await control_socket(await agent.control_url(number), server.url)
        customer = cls(agent, number, control)
        customer.applet = await FakeApplet.connect(server, token)
        await customer.applet.next_control("consent_request")
        await customer.applet.send(
            {"type": "consent", "decision": "yes", "capabilities": ["view", "control"]}
        )
        customer.secret = (await customer.applet.next_control("resume"))["secret"]
        await next_of(control, "state", state="active")
        return customer

    async def resume(self, server: LiveServer, secret: str | None = None) -> FakeApplet:
        socket = await connect(
            server.url.replace("http", "ws", 1) + "/ws/applet",
            additional_headers={"Authorization": f"Resume {self.number} {secret or self.secret}"},
        )
        self.applet = FakeApplet(socket)
        return self.applet


@pytest.fixture
async def customer(server: LiveServer) -> AsyncIterator[Customer]:
    customer = await Customer.consented(server)
    yield customer
    await customer.agent.close()


async def link_state(control: ClientConnection, phase: str) -> dict[str, Any]:
    return await asyncio.wait_for(next_of(control, "state", customer_link=phase), timeout=10)


async def test_a_short_gap_resumes_with_a_new_secret_and_fresh_viewers(
    server: LiveServer, customer: Customer
) -> None:
    assert customer.applet is not None
    viewer = await open_viewer(server, customer.number, customer.control)
    await customer.applet.next_control("open")
    await customer.applet.socket.close()
    lost = await link_state(customer.control, "lost")
    assert lost["state"] == "active" and lost["lost_since"]
    applet = await customer.resume(server)
    # The same secret for the whole session: a link given up on may arrive after the
    # one kept, and the newest must be able to take over.
    assert (await applet.next_control("resume"))["secret"] == customer.secret
    back = await link_state(customer.control, "connected")
    assert back["state"] == "active" and back["lost_since"] is None
    # The old link's RFB channel died with it: its viewer is told to come again.
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await viewer.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    await open_viewer(server, customer.number, customer.control)
    assert (await applet.next_control("open"))["channel"] > 0
    entries = await asyncio.to_thread(audit_entries, server, customer.number)
    events = [e["event_type"] for e in entries]
    assert events.count("session.link_lost") == 1
    [restored] = [e for e in entries if e["event_type"] == "session.link_restored"]
    assert restored["data"]["consent_again"] is False and restored["data"]["gap_ms"] >= 0


async def test_a_long_gap_asks_for_consent_again_before_anything_crosses(
    server: LiveServer, customer: Customer
) -> None:
    assert customer.applet is not None
    await customer.applet.socket.close()
    await link_state(customer.control, "lost")
    await asyncio.sleep(RECONSENT + 0.5)
    applet = await customer.resume(server)
    request = await applet.next_control("consent_request")
    assert request["renewal"] is True and request["consent_version"]
    renewing = await link_state(customer.control, "renewing")
    assert renewing["state"] == "active"
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    await link_state(customer.control, "connected")
    entries = await asyncio.to_thread(audit_entries, server, customer.number)
    [restored] = [e for e in entries if e["event_type"] == "session.link_restored"]
    assert restored["data"]["consent_again"] is True
    [renewed] = [e for e in entries if e["event_type"] == "consent.renewed"]
    assert renewed["data"]["text_sha256"] and renewed["actor"] == "customer"


async def test_no_after_a_long_gap_ends_the_session(server: LiveServer, customer: Customer) -> None:
    assert customer.applet is not None
    await customer.applet.socket.close()
    await link_state(customer.control, "lost")
    await asyncio.sleep(RECONSENT + 0.5)
    applet = await customer.resume(server)
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "no"})
    ended = await asyncio.wait_for(next_of(customer.control, "state", state="ended"), timeout=5)
    assert ended["end_reason"] == "customer"


async def test_nobody_back_within_the_grace_ends_as_connection_lost(
    server: LiveServer, customer: Customer
) -> None:
    assert customer.applet is not None
    await customer.applet.socket.close()
    await link_state(customer.control, "lost")
    ended = await asyncio.wait_for(
        next_of(customer.control, "state", state="ended"), timeout=GRACE + 5
    )
    assert ended["end_reason"] == "connection_lost"
    with pytest.raises(InvalidStatus):
        await customer.resume(server)
    entries = await asyncio.to_thread(audit_entries, server, customer.number)
    [end] = [e for e in entries if e["event_type"] == "session.ended"]
    assert end["data"]["reason"] == "connection_lost"


async def test_a_side_that_sends_heartbeats_and_goes_silent_is_taken_for_lost(
    server: LiveServer, customer: Customer
) -> None:
    assert customer.applet is not None
    await customer.applet.send({"type": "heartbeat"})
    # Then nothing: a black hole. The relay closes the link after the silence limit.
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(customer.applet.drain(SILENCE + 3), timeout=SILENCE + 3)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    lost = await link_state(customer.control, "lost")
    assert lost["applet_connected"] is False
    # Heartbeats are liveness only: never in the recording's control messages.
    events = [
        e["event_type"] for e in await asyncio.to_thread(audit_entries, server, customer.number)
    ]
    assert "session.link_lost" in events


async def test_a_resume_replaces_a_link_the_relay_still_holds(
    server: LiveServer, customer: Customer
) -> None:
    old = customer.applet
    assert old is not None
    applet = await customer.resume(server)
    await applet.next_control("resume")
    with pytest.raises(ConnectionClosed):
        while True:
            await old.socket.recv()
    await link_state(customer.control, "connected")


async def test_wrong_secrets_and_the_wrong_kind_of_link_cannot_resume(
    server: LiveServer, customer: Customer
) -> None:
    assert customer.applet is not None
    await customer.applet.socket.close()
    await link_state(customer.control, "lost")
    url = server.url.replace("http", "ws", 1)
    for header in (
        f"Resume {customer.number} {customer.secret[:-1]}x",
        f"Resume {customer.number} ",
        f"Resume BN-2026-0000-0000-0 {customer.secret}",
        f"Bearer {customer.secret}",
    ):
        with pytest.raises(InvalidStatus):
            await connect(url + "/ws/applet", additional_headers={"Authorization": header})
    # An applet's secret does not take the session up as a browser (a browser cannot
    # read a refused upgrade: it gets the socket, closed with 4401).
    wrong_kind = await connect(
        url + "/ws/browser",
        subprotocols=["supportdesk.link.v1", f"resume.{customer.number}.{customer.secret}"],  # type: ignore[list-item]
        additional_headers={"Origin": server.url},
    )
    with pytest.raises(ConnectionClosed) as closed:
        await wrong_kind.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    applet = await customer.resume(server)
    await applet.next_control("resume")


async def test_a_browser_resumes_and_its_viewers_wait_for_a_key_chunk(server: LiveServer) -> None:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    link = await browser_link(server, await join_token(server, key))
    request = await link.next_control("consent_request")
    await link.send(
        {"type": "consent", "decision": "yes", "consent_sha256": request["consent_sha256"]}
    )
    secret = (await link.next_control("resume"))["secret"]
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    await link.socket.close()
    await link_state(control, "lost")
    socket = await connect(
        server.url.replace("http", "ws", 1) + "/ws/browser",
        subprotocols=["supportdesk.link.v1", f"resume.{number}.{secret}", "lang.de"],  # type: ignore[list-item]
        additional_headers={"Origin": server.url},
    )
    back = FakeApplet(socket)
    await back.next_control("resume")
    await back.next_control("keyframe")
    await link_state(control, "connected")
    await socket.send(encode_control({"type": "end"}))
    ended = await asyncio.wait_for(next_of(control, "state", state="ended"), timeout=5)
    assert ended["end_reason"] == "customer"
    await agent.close()


async def test_a_quick_second_drop_while_asked_again_still_asks(
    server: LiveServer, customer: Customer
) -> None:
    """Two links back with one secret, the first given up on by the customer's side
    (it arrives late, through a proxy): the newest takes over, and the consent the
    session was asking for is still asked for."""
    assert customer.applet is not None
    await customer.applet.socket.close()
    await link_state(customer.control, "lost")
    await asyncio.sleep(RECONSENT + 0.5)
    stale = await customer.resume(server)
    await stale.next_control("consent_request")
    await link_state(customer.control, "renewing")
    live = await customer.resume(server)  # replaces the stale one within moments
    request = await live.next_control("consent_request")
    assert request["renewal"] is True
    await link_state(customer.control, "renewing")
    await live.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    await link_state(customer.control, "connected")
    entries = await asyncio.to_thread(audit_entries, server, customer.number)
    restored = [e["data"] for e in entries if e["event_type"] == "session.link_restored"]
    assert [r["consent_again"] for r in restored] == [True, True]
