"""The console's control socket against the real server: every message is checked
against the console schema before it is recorded or forwarded; a malformed one is
answered with an error and reaches nobody, JSON nested too deep closes the socket
with a close frame that says why."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.live_server import LiveServer
from tests.server.in_process_server import in_process_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    control_socket,
    join_token,
    next_of,
)


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with in_process_server(tmp_path_factory.mktemp("console-input")) as (running, _):
        await asyncio.to_thread(add_agent, running, "anna")
        yield running


async def active_session(
    server: LiveServer,
) -> tuple[AgentBrowser, FakeApplet, ClientConnection, str]:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    await applet.send({"type": "hello", "screens": [{"index": 0}, {"index": 1}]})
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    return agent, applet, control, number


async def applet_gets(applet: FakeApplet, kind: str, within: float = 0.5) -> bool:
    try:
        await asyncio.wait_for(applet.next_control(kind), within)
    except TimeoutError:
        return False
    return True


async def test_a_negative_screen_is_refused_and_never_reaches_the_customer(
    server: LiveServer,
) -> None:
    agent, applet, control, _ = await active_session(server)
    for screen in (-1, 2, "1", 2**40, None):
        await control.send(json.dumps({"type": "screen", "screen": screen}))
        error = await next_of(control, "error")
        assert "screen" in error["detail"]
    assert not await applet_gets(applet, "screen")
    # The socket is still open and a good choice still goes through.
    await control.send('{"type": "screen", "screen": 1}')
    assert (await applet.next_control("screen"))["screen"] == 1
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    await agent.close()


async def test_unknown_messages_get_an_error_and_are_not_acted_on(server: LiveServer) -> None:
    agent, applet, control, _ = await active_session(server)
    await control.send('{"type": "open", "channel": 7, "view_only": false}')
    assert "unknown console message" in (await next_of(control, "error"))["detail"]
    await control.send('{"type": "end", "reason": "forged"}')
    assert "unexpected field" in (await next_of(control, "error"))["detail"]
    assert not await applet_gets(applet, "end")
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    await agent.close()


async def test_deeply_nested_json_closes_the_console_socket_with_a_reason(
    server: LiveServer,
) -> None:
    agent, applet, control, number = await active_session(server)
    await control.send('{"type": "chat", "text": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(control.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1007
    assert "deeper than" in closed.value.rcvd.reason
    # The session is untouched: another console works, and ends it.
    again = await control_socket(await agent.control_url(number), server.url)
    await next_of(again, "state", state="active")
    await again.send('{"type": "end"}')
    await applet.next_control("end")
    await agent.close()


async def test_the_live_page_has_words_for_the_recording_limit_end(server: LiveServer) -> None:
    agent, applet, control, number = await active_session(server)
    page = await agent.http.get(f"/console/sessions/{number}/live")
    assert (
        '<span data-ended="recording_limit">die Aufzeichnung der Sitzung hat ihre '
        "Größengrenze erreicht</span>"
    ) in page.text
    await control.send('{"type": "end"}')
    await applet.next_control("end")
    await agent.close()
