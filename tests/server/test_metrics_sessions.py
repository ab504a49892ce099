"""/metrics follows a real session on a real server: the key issued and redeemed, the
live session with its customer's link and a viewer, the bytes relayed and recorded,
the end by the agent; then a refused key and a failed login."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest

from supportdesk.link.frames import encode_frame
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import (
    TOKEN,
    AgentBrowser,
    FakeApplet,
    add_agent,
    control_socket,
    join_token,
    next_of,
    open_viewer,
)

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
HANDSHAKE = b"RFB 003.008\n\x01\x01"


class Scrape:
    """One scrape, parsed: ``scrape["name", {"label": "value"}]`` (node left out)."""

    def __init__(self, text: str) -> None:
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        self.nodes: set[str] = set()
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            found = SAMPLE.match(line)
            assert found, line
            labels = dict(LABEL.findall(found.group(2) or ""))
            self.nodes.add(labels.pop("node"))
            self.samples[found.group(1), frozenset(labels.items())] = float(found.group(3))

    def __getitem__(self, key: str | tuple[str, dict[str, str]]) -> float:
        name, labels = (key, {}) if isinstance(key, str) else key
        return self.samples[name, frozenset(labels.items())]


def scrape(server: LiveServer) -> Scrape:
    answer = httpx.get(f"{server.url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return Scrape(answer.text)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("metrics-sessions")) as running:
        add_agent(running, "anna")
        yield running


async def test_a_session_from_key_to_end_moves_the_counters(server: LiveServer) -> None:
    before = scrape(server)
    assert before.nodes == {f"127.0.0.1:{server.url.rsplit(':', 1)[1]}"}
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    issued = scrape(server)
    assert issued["supportdesk_support_keys_issued_total"] == (
        before["supportdesk_support_keys_issued_total"] + 1
    )
    assert issued["supportdesk_sessions", {"state": "issued"}] >= 1

    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    await applet.next_control("state")
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    viewer = await open_viewer(server, number, control)
    opened = await applet.next_control("open")
    screen = HANDSHAKE + b"\x00" * 4000
    await applet.socket.send(encode_frame(opened["channel"], screen))
    assert await asyncio.wait_for(viewer.recv(), timeout=5)

    live = scrape(server)
    assert live["supportdesk_key_redemptions_total", {"kind": "first"}] == (
        before["supportdesk_key_redemptions_total", {"kind": "first"}] + 1
    )
    assert live["supportdesk_sessions", {"state": "active"}] == 1
    assert live["supportdesk_relays"] == 1
    assert live["supportdesk_customer_links", {"kind": "applet"}] == 1
    assert live["supportdesk_viewers", {"kind": "rfb"}] == 1
    assert live["supportdesk_console_sockets"] == 1
    from_customer = ("supportdesk_relay_bytes_total", {"direction": "from_customer"})
    to_customer = ("supportdesk_relay_bytes_total", {"direction": "to_customer"})
    assert live[from_customer] - before[from_customer] >= len(screen)
    assert live[to_customer] > before[to_customer]
    frames_in = ("supportdesk_relay_frames_total", {"direction": "from_customer"})
    frames_out = ("supportdesk_relay_frames_total", {"direction": "to_customer"})
    assert live[frames_in] - before[frames_in] >= 2  # the consent answer, the screen
    assert live[frames_out] - before[frames_out] >= 2  # the consent request, the open
    assert live["supportdesk_recording_bytes_total"] - before[
        "supportdesk_recording_bytes_total"
    ] >= len(screen)

    await control.send('{"type": "end"}')
    await asyncio.wait_for(applet.next_control("end"), timeout=5)
    ended = await _settled(server, "supportdesk_relays", 0)
    by_agent = ("supportdesk_sessions_ended_total", {"reason": "agent"})
    assert ended[by_agent] == before[by_agent] + 1
    assert ended["supportdesk_sessions", {"state": "active"}] == 0
    assert ended["supportdesk_viewers", {"kind": "rfb"}] == 0
    assert (
        ended["supportdesk_http_requests_total", {"code": "2xx"}]
        > before["supportdesk_http_requests_total", {"code": "2xx"}]
    )
    count = "supportdesk_http_request_duration_seconds_count"
    assert ended[count] > before[count]
    await viewer.close()
    await applet.socket.close()
    await agent.close()


async def test_a_refused_key_and_a_failed_login_are_counted(server: LiveServer) -> None:
    before = scrape(server)
    async with httpx.AsyncClient(base_url=server.url) as client:
        refused = await client.post(
            "/api/v1/join", json={"name": "Erika", "support_key": "123456789012"}
        )
        assert refused.status_code != 200
        form = await client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        failed = await client.post(
            "/console/login",
            data={"username": "anna", "password": "wrong " + TOKEN.pattern, "csrf_token": token[1]},
        )
        assert failed.status_code == 401
    after = scrape(server)
    refusals = sum(
        after.samples[key] - before.samples.get(key, 0)
        for key in after.samples
        if key[0] == "supportdesk_key_refusals_total"
    )
    assert refusals == 1
    password = ("supportdesk_login_failures_total", {"stage": "password"})
    assert after[password] == before[password] + 1
    assert after["supportdesk_http_requests_total", {"code": "4xx"}] >= 2


async def _settled(server: LiveServer, name: str, value: float) -> Scrape:
    """The first scrape in which ``name`` reads ``value`` (the relay lets go a moment
    after the end is told)."""
    for _ in range(50):
        found = scrape(server)
        if found[name] == value:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name} never became {value}")
