"""HAProxy in front of three nodes, with the routing rule of deploy/haproxy.cfg: one
consultation number always reaches one node, numbers spread, a killed node is taken
out within seconds and only its numbers move, and WebSockets pass."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import websockets
from scripts.haproxy_config import EXAMPLE, render

from tests.cluster.harness import Cluster, cluster

ROOT = Path(__file__).resolve().parents[2]
LINK_PROTOCOL = "supportdesk.link.v1"


def number() -> str:
    """A consultation number's shape; the balancer does not check its digit."""
    digits = f"{secrets.randbelow(10**13):013d}"
    return f"BN-{digits[:4]}-{digits[4:8]}-{digits[8:12]}-{digits[12]}"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("cluster"), nodes=3) as started:
        yield started


def node_of(running: Cluster, session: str, **headers: str) -> str:
    """The node that answers /readyz?session=… through HAProxy."""
    answer = httpx.get(f"{running.url}/readyz", params={"session": session}, headers=headers)
    assert answer.status_code == 200, answer.text
    node: str = answer.json()["node"]
    return node


def path_node(running: Cluster, path: str) -> str:
    """The node HAProxy sent a request for ``path`` to, read from HAProxy's log."""
    marker = secrets.token_hex(8)
    separator = "&" if "?" in path else "?"
    httpx.get(f"{running.url}{path}{separator}probe={marker}")
    return running.served_by(marker)


def test_the_example_configuration_is_the_template_rendered() -> None:
    assert (ROOT / "deploy" / "haproxy.cfg").read_text() == render(EXAMPLE), (
        "run: .venv/bin/python -m scripts.haproxy_config > deploy/haproxy.cfg"
    )


def test_the_portal_answers_through_haproxy(running: Cluster) -> None:
    answer = httpx.get(running.url + "/")
    assert answer.status_code == 200
    assert "Fernwartung" in answer.text
    seen = {httpx.get(f"{running.url}/readyz").json()["node"] for _ in range(9)}
    assert seen == {"node-a", "node-b", "node-c"}  # no number: round robin


def test_one_number_reaches_one_node_by_query_path_and_resume_header(running: Cluster) -> None:
    for _ in range(6):
        session = number()
        home = node_of(running, session)
        assert {node_of(running, session) for _ in range(5)} == {home}
        assert path_node(running, f"/ws/viewer/{session}") == home
        assert path_node(running, f"/ws/video/{session}") == home
        assert path_node(running, f"/ws/control/{session}") == home
        assert path_node(running, f"/console/sessions/{session}/live") == home
        assert path_node(running, f"/console/sessions/{session}/files/7") == home
        assert path_node(running, f"/ws/applet?session={session}") == home
        resume = httpx.get(
            f"{running.url}/readyz", headers={"Authorization": f"Resume {session} s3cret"}
        )
        assert resume.json()["node"] == home


def test_the_query_parameter_comes_before_the_path(running: Cluster) -> None:
    first, second = number(), number()
    while node_of(running, first) == node_of(running, second):
        second = number()
    assert path_node(running, f"/ws/viewer/{second}?session={first}") == node_of(running, first)


def test_a_clients_own_routing_header_is_not_believed(running: Cluster) -> None:
    session = number()
    homes = {
        httpx.get(f"{running.url}/readyz", headers={"X-Supportdesk-Session": session}).json()[
            "node"
        ]
        for _ in range(6)
    }
    assert len(homes) > 1  # round robin, not the hash of the forged header


def test_numbers_spread_over_the_nodes(running: Cluster) -> None:
    homes = [node_of(running, number()) for _ in range(60)]
    counts = {node: homes.count(node) for node in set(homes)}
    assert set(counts) == {"node-a", "node-b", "node-c"}
    assert min(counts.values()) >= 5, counts


def test_a_websocket_upgrade_passes_through_haproxy(running: Cluster) -> None:
    session = number()

    async def resume_refused() -> int | None:
        url = running.url.replace("http://", "ws://") + f"/ws/browser?session={session}"
        async with websockets.connect(
            url,
            origin=websockets.Origin(running.url),
            subprotocols=[
                websockets.Subprotocol(LINK_PROTOCOL),
                websockets.Subprotocol(f"resume.{session}.nosecret"),
            ],
        ) as link:
            assert link.subprotocol == LINK_PROTOCOL  # the node accepted the upgrade
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(link.recv(), 10)
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert asyncio.run(resume_refused()) == 4401  # the node's answer to a wrong secret


def test_the_nodes_see_the_client_haproxy_saw_and_no_forged_one(running: Cluster) -> None:
    def join(base: str, source: str) -> None:
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(transport=transport, base_url=base) as client:
            answer = client.post(
                "/api/v1/join",
                json={"name": "Erika Muster", "support_key": "1234 5678 9012"},
                headers={"X-Forwarded-For": f"198.51.100.{secrets.randbelow(250)}"},
            )
            assert answer.status_code == 404

    join(running.url, "127.0.0.2")
    join(running.url, "127.0.0.2")
    join(running.node_url("node-a"), "127.0.0.2")  # not the proxy: its header is a lie
    join(running.url, "127.0.0.3")

    async def actors() -> list[str]:
        url = running.environ["SUPPORTDESK_DATABASE_URL"]
        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch(
                "SELECT actor FROM audit_entries WHERE event_type = "
                "'support_key.redemption_failed' ORDER BY sequence"
            )
        finally:
            await connection.close()
        return [row["actor"] for row in rows]

    seen = asyncio.run(actors())[-4:]
    assert seen[0] == seen[1] == seen[2] != seen[3]


def test_a_killed_node_is_taken_out_and_only_its_numbers_move(running: Cluster) -> None:
    sessions = [number() for _ in range(60)]
    before = {session: node_of(running, session) for session in sessions}
    killed = time.monotonic()
    running.kill("node-b")
    taken_out = running.wait_down("node-b", timeout=10)
    assert time.monotonic() - killed < 5, f"taken out after {taken_out:.1f} s"
    seen = {httpx.get(f"{running.url}/readyz").json()["node"] for _ in range(12)}
    assert seen == {"node-a", "node-c"}
    during = {session: node_of(running, session) for session in sessions}
    for session in sessions:
        if before[session] == "node-b":
            assert during[session] in {"node-a", "node-c"}
        else:
            assert during[session] == before[session], session
    assert "node-b" in before.values()

    running.start("node-b")  # waits until HAProxy has it back
    after = {session: node_of(running, session) for session in sessions}
    assert after == before
