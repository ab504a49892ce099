"""Hand-over and a second agent through the real server and relay: the owner hands a
live session to a colleague online, or invites one to watch or to control; the
customer's window is told and may refuse; parallel hand-overs leave one owner; a
locked, disabled or non-running account is refused; every step is in the audit."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from supportdesk.server.state import Desk
from supportdesk.store.agents import AgentAccounts
from tests.live_server import LiveServer
from tests.server.in_process_server import in_process_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    audit_entries,
    control_socket,
    join_token,
    next_of,
)

AGENTS = {
    "anna": "agent",
    "bernd": "agent",
    "carla": "agent",
    "sven": "supervisor",
    "lena": "agent",
    "dora": "agent",
    "ulla": "auditor",
}


@pytest.fixture(scope="module")
async def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LiveServer, Desk]]:
    async with in_process_server(tmp_path_factory.mktemp("handover")) as (running, app):
        for name, role in AGENTS.items():
            await asyncio.to_thread(add_agent, running, name, role)
        yield running, desk_of(app)


def desk_of(app: FastAPI) -> Desk:
    desk: Desk = app.state.desk
    return desk


async def agent_id(desk: Desk, username: str) -> int:
    async with desk.sessions() as db:
        agent = await AgentAccounts(db).by_username(username)
    assert agent is not None
    return agent.id


async def online(server: LiveServer, agent: AgentBrowser) -> ClientConnection:
    """The agent's dashboard open: a socket, so the agent counts as online."""
    page = await agent.http.get("/console/")
    found = re.search(r'data-socket-url="([^"]+)"', page.text)
    assert found, page.text
    url = server.url.replace("http", "ws", 1) + found.group(1).replace("&amp;", "&")
    return await connect(url, additional_headers={"Origin": server.url})


async def live_session(
    server: LiveServer, owner: str = "anna", capabilities: tuple[str, ...] = ("view", "control")
) -> tuple[AgentBrowser, FakeApplet, ClientConnection, str]:
    agent = await AgentBrowser.log_in(server, owner)
    key, number = await agent.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": list(capabilities)})
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    return agent, applet, control, number


async def answer(control: ClientConnection) -> dict[str, Any]:
    """The console's answer to a team request: done or refused."""
    while True:
        message = json.loads(await asyncio.wait_for(control.recv(), 10))
        if message.get("type") in ("team_done", "team_refused"):
            return dict(message)


async def closed_code(socket: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def end(control: ClientConnection, applet: FakeApplet) -> None:
    await control.send('{"type": "end"}')
    await applet.next_control("end")


async def test_the_owner_hands_over_and_loses_the_session_at_once(
    served: tuple[LiveServer, Desk],
) -> None:
    server, desk = served
    anna, applet, control, number = await live_session(server)
    bernd = await AgentBrowser.log_in(server, "bernd")
    present = await online(server, bernd)
    await asyncio.sleep(0.2)
    listed = (await anna.http.get(f"/console/sessions/{number}/colleagues")).json()
    names = {c["name"] for c in listed["colleagues"]}
    assert "Bernd" in names and "Anna" not in names
    assert "Lena" not in names  # not online

    await control.send(
        json.dumps(
            {"type": "hand_over", "agent": await agent_id(desk, "bernd"), "owner": "agent:anna"}
        )
    )
    # Who left first, who took over last: the window's latest notice is the one that
    # can be refused.
    left = await applet.next_control("agent_notice")
    assert (left["change"], left["agent_name"], left["refusable"]) == ("left", "Anna", False)
    notice = await applet.next_control("agent_notice")
    assert notice["change"] == "took_over" and notice["agent_name"] == "Bernd"
    assert notice["refusable"] is True  # control is granted: the customer may say no
    # Anna's console is closed: she did not stay on the team.
    assert await closed_code(control) == 4403
    relay = desk.relay.get(number)
    assert relay is not None
    assert relay.session.agent_id == "agent:bernd"
    assert relay.session.may_control("agent:bernd") and not relay.session.may_control("agent:anna")
    assert relay.info.agent_name == "Bernd"
    # Bernd's live page works and is the owner's; Anna's is gone.
    assert (await anna.http.get(f"/console/sessions/{number}/live")).status_code == 404
    page = await bernd.http.get(f"/console/sessions/{number}/live")
    assert page.status_code == 200 and 'data-view-only="false"' in page.text
    taken = await control_socket(await bernd.control_url(number), server.url)
    state = await next_of(taken, "state", state="active")
    assert state["owner"] == {"actor": "agent:bernd", "name": "Bernd"}
    assert state["controllers"] == ["agent:bernd"]
    # The customer's window has the team by name, without user names.
    applet_state = await applet.next_control("state")
    assert {"name": "Bernd", "owner": True, "control": True} in applet_state["agents"]
    assert "owner" not in applet_state and "controllers" not in applet_state
    # No new consent was asked.
    assert not [m for m in applet.control if m["type"] == "consent_request"][1:]
    # The dashboard lists it under Bernd now.
    assert number in (await bernd.http.get("/console/")).text
    await end(taken, applet)
    entries = audit_entries(server, number)
    (handed,) = [e for e in entries if e["event_type"] == "session.handed_over"]
    assert handed["actor"] == "agent:anna"
    assert handed["data"] == {"from": "agent:anna", "to": "agent:bernd", "previous_stays": False}
    ended = [e for e in entries if e["event_type"] == "session.ended"]
    assert ended[-1]["actor"] == "agent:bernd"
    await present.close()
    for agent in (anna, bernd):
        await agent.close()


async def test_a_helper_watches_then_controls_until_the_customer_refuses(
    served: tuple[LiveServer, Desk],
) -> None:
    server, desk = served
    anna, applet, control, number = await live_session(server)
    carla = await AgentBrowser.log_in(server, "carla")
    carla_id = await agent_id(desk, "carla")
    # Before any invitation, Carla (an agent, no supervisor) cannot see the session.
    assert (await carla.http.get(f"/console/sessions/{number}/live")).status_code == 404
    await control.send(json.dumps({"type": "invite_helper", "agent": carla_id}))
    assert (await answer(control))["type"] == "team_done"
    joined = await applet.next_control("agent_notice")
    assert (joined["change"], joined["agent_name"], joined["refusable"]) == (
        "joined",
        "Carla",
        False,
    )
    page = await carla.http.get(f"/console/sessions/{number}/live")
    assert page.status_code == 200 and 'data-view-only="true"' in page.text
    helper_console = await control_socket(await carla.control_url(number), server.url)
    state = await next_of(helper_console, "state", state="active")
    assert state["helpers"] == [{"actor": "agent:carla", "name": "Carla", "control": False}]
    assert state["controllers"] == ["agent:anna"]
    # A helper may not hand over or invite.
    await helper_console.send(
        json.dumps({"type": "hand_over", "agent": carla_id, "owner": "agent:anna"})
    )
    assert "only the session's agent" in (await next_of(helper_console, "error"))["detail"]

    await control.send(json.dumps({"type": "invite_helper", "agent": carla_id, "control": True}))
    assert (await answer(control))["type"] == "team_done"
    joined = await applet.next_control("agent_notice")
    assert joined["refusable"] is True
    relay = desk.relay.get(number)
    assert relay is not None and relay.session.may_control("agent:carla")
    # "Ablehnen" in the customer's window.
    await applet.send({"type": "refuse_control", "notice": joined["notice"]})
    state = await next_of(helper_console, "state", controllers=["agent:anna"])
    assert not relay.session.may_control("agent:carla")
    assert relay.session.on_team("agent:carla")  # still watching
    # An unknown notice changes nothing and breaks nothing.
    await applet.send({"type": "refuse_control", "notice": "forged"})
    await control.send(json.dumps({"type": "release_helper", "actor": "agent:carla"}))
    assert (await answer(control))["type"] == "team_done"
    assert await closed_code(helper_console) == 4403
    await end(control, applet)
    codes = [e["event_type"] for e in audit_entries(server, number)]
    assert codes.count("session.helper_invited") == 2
    assert "session.control_refused" in codes and "session.helper_left" in codes
    refused = [
        e for e in audit_entries(server, number) if e["event_type"] == "session.control_refused"
    ]
    assert refused[0]["actor"] == "customer" and refused[0]["data"] == {"agent": "agent:carla"}
    for agent in (anna, carla):
        await agent.close()


async def test_parallel_hand_overs_leave_exactly_one_owner(
    served: tuple[LiveServer, Desk],
) -> None:
    server, desk = served
    anna, applet, control, number = await live_session(server)
    sven = await AgentBrowser.log_in(server, "sven")
    watching = await control_socket(await sven.control_url(number), server.url)
    await next_of(watching, "state", state="active")
    for name in ("bernd", "carla"):
        await AgentBrowser.log_in(server, name)
    bernd_id, carla_id = await agent_id(desk, "bernd"), await agent_id(desk, "carla")
    # The owner and a supervisor both hand over, from what they both saw: Anna's.
    # Anna watches on whichever wins, so her console stays open for its answer (else,
    # when Sven's came first, it closes before the refusal of hers can be told).
    to_bernd = {"type": "hand_over", "agent": bernd_id, "owner": "agent:anna"}
    to_carla = {"type": "hand_over", "agent": carla_id, "owner": "agent:anna"}
    await asyncio.gather(
        control.send(json.dumps({**to_bernd, "keep_watching": True})),
        watching.send(json.dumps({**to_carla, "keep_watching": True})),
    )
    answers = await asyncio.gather(answer(control), answer(watching))
    assert sorted(a["type"] for a in answers) == ["team_done", "team_refused"]
    (refusal,) = [a for a in answers if a["type"] == "team_refused"]
    assert refusal["reason"] == "stale"
    relay = desk.relay.get(number)
    assert relay is not None and relay.session.agent_id in ("agent:bernd", "agent:carla")
    entries = audit_entries(server, number)
    assert len([e for e in entries if e["event_type"] == "session.handed_over"]) == 1
    (stale,) = [e for e in entries if e["event_type"] == "session.team_change_refused"]
    assert stale["data"]["reason"] == "stale"
    await end(watching, applet)
    await anna.close()
    await sven.close()


async def test_a_locked_disabled_or_non_running_colleague_is_refused(
    served: tuple[LiveServer, Desk],
) -> None:
    server, desk = served
    anna, applet, control, number = await live_session(server)
    await AgentBrowser.log_in(server, "lena")
    await AgentBrowser.log_in(server, "ulla")
    # Lena's account is locked out by failed logins (someone guessing her password).
    for _ in range(8):
        await desk.counters.reserve(["login:account:lena"], desk.clock(), lambda _count: True)
    async with desk.sessions.begin() as db:
        await AgentAccounts(db).set_disabled(await agent_id(desk, "dora"), True)
    for name, reason in (("lena", "locked"), ("dora", "disabled"), ("ulla", "not_permitted")):
        await control.send(
            json.dumps(
                {"type": "hand_over", "agent": await agent_id(desk, name), "owner": "agent:anna"}
            )
        )
        refused = await answer(control)
        assert (refused["type"], refused["reason"]) == ("team_refused", reason), name
    await control.send(json.dumps({"type": "invite_helper", "agent": 999999}))
    assert (await answer(control))["reason"] == "unknown"
    relay = desk.relay.get(number)
    assert relay is not None and relay.session.agent_id == "agent:anna"
    assert relay.session.may_control("agent:anna")
    await end(control, applet)
    refusals = [
        (e["data"]["target"], e["data"]["reason"])
        for e in audit_entries(server, number)
        if e["event_type"] == "session.team_change_refused"
    ]
    assert refusals == [
        ("agent:lena", "locked"),
        ("agent:dora", "disabled"),
        ("agent:ulla", "not_permitted"),
        ("-", "unknown"),
    ]
    await anna.close()
