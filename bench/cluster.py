"""``python -m bench.cluster``: a session surviving its node's death, and what a cluster
costs the relay.

Real processes on this machine: ``supportdesk serve`` nodes on one PostgreSQL database
and one Redis namespace behind HAProxy (``scripts/cluster.py``, the configuration of
``deploy/haproxy.cfg``), lease length the default 5 s. The parties are protocol-level
stand-ins on real sockets, following the real clients' retry rules:

- the **applet** speaks the link protocol through HAProxy; after its link breaks it
  tries again with the applet's own back-off (``applet/link/keeper.py``: doubling from
  0.25 s, at most 2 s, equal jitter) and its resume secret;
- the **agent** is signed in through HAProxy; after its sockets break it asks for a new
  control ticket (``POST …/control-ticket``) and a viewer ticket, retrying like the live
  page (150 ms doubling to 2 s).

**Node death** (``--trials``, default 20): a live session sends a 2 KiB update every
20 ms, each stamped with its send time. SIGKILL of the node holding the session's
lease is t0; t1 is when the agent's new viewer receives the first update sent after
t0. Resume time t1 - t0 includes HAProxy noticing the death, the lease running out,
the applet's and agent's retries. The killed node is started again (and HAProxy takes
it back) before the next trial. Target: p95 <= 10 s.

**Added latency** (``--sessions``, default 100): as many live sessions at once, each
applet sending a stamped 2 KiB update every 200 ms to its agent's viewer; the one-way
latency applet -> relay -> viewer (one clock: one machine), p50 and p95 over all
updates of ``--seconds`` per round, medians of ``--rounds`` rounds. Measured on three
nodes behind HAProxy, then, in the same run, on one node behind the same HAProxy
configuration and on that node directly; and on three nodes with every agent socket
sent to a node that does not serve its session, so it is handed on (piped to the
serving node, ``server/cluster/hand_on.py``). Target: the cluster's p50 within 1.2x
of one node's.

``--markdown FILE`` writes the results into FILE's section "Cluster".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from tests.cluster.harness import Cluster, cluster
from tests.redis_server import ensure_shared_redis
from tests.server.relay_parties import PASSWORD, TOKEN, consent_as_shown
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench.__main__ import machine
from bench.doc_block import write_block
from supportdesk.applet.link.keeper import Backoff
from supportdesk.link.frames import decode_control, decode_frame, encode_control, encode_frame

FILLER = bytes(2048)
STAMP = struct.Struct(">d")
CONSOLE_FIRST, CONSOLE_CEILING = 0.15, 2.0


def ws(url: str) -> str:
    return url.replace("http", "ws", 1)


# -- the parties ----------------------------------------------------------------------


@dataclass
class Applet:
    """The customer's side: resumes after a break, sends stamped updates."""

    base: str
    number: str
    secret: str = ""
    socket: ClientConnection | None = None
    channel: int | None = None
    period: float = 0.02
    running: bool = True
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def join(self, token: str) -> None:
        self.socket = await connect(
            f"{ws(self.base)}/ws/applet?session={self.number}",
            additional_headers={"Authorization": f"Bearer {token}"},
            max_size=None,
        )
        while True:
            message = await self._control()
            if message["type"] == "consent_request":
                yes = {"type": "consent", "decision": "yes", "capabilities": ["view"]}
                await self._send(consent_as_shown(message, yes))
            elif message["type"] == "resume":
                self.secret = str(message["secret"])
                break
        self.connected.set()

    async def _send(self, message: dict[str, object]) -> None:
        assert self.socket is not None
        await self.socket.send(encode_control(message))

    async def _control(self) -> dict[str, object]:
        assert self.socket is not None
        while True:
            frame = decode_frame(await self.socket.recv())  # type: ignore[arg-type]
            if frame.channel == 0:
                message: dict[str, object] = decode_control(frame.payload)
                if message["type"] == "open":
                    self.channel = int(message["channel"])  # type: ignore[call-overload]
                return message

    async def run(self) -> None:
        """Read (to learn channels), pump updates, resume after every break."""
        backoff = Backoff()
        while self.running:
            socket = self.socket
            if socket is not None:
                pump = asyncio.create_task(self._pump(socket))
                try:
                    while True:
                        await self._control()
                except ConnectionClosed:
                    pass
                finally:
                    pump.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                        await pump
                self.socket, self.channel = None, None
                self.connected.clear()
            if not self.running:
                return
            await asyncio.sleep(backoff.next_delay())
            with contextlib.suppress(InvalidStatus, OSError, TimeoutError):
                self.socket = await connect(
                    f"{ws(self.base)}/ws/applet?session={self.number}",
                    additional_headers={"Authorization": f"Resume {self.number} {self.secret}"},
                    max_size=None,
                    open_timeout=3,
                )
                backoff.reset()
                self.connected.set()

    async def _pump(self, socket: ClientConnection) -> None:
        while True:
            if self.channel is not None:
                await socket.send(encode_frame(self.channel, STAMP.pack(time.time()) + FILLER))
            await asyncio.sleep(self.period)


@dataclass
class Agent:
    """The agent's live page: control socket, one viewer, reconnecting like the page."""

    http: httpx.AsyncClient
    base: str
    number: str
    csrf: str
    received: list[tuple[float, float]] = field(default_factory=list)  # (sent, arrived)
    running: bool = True
    seeing: asyncio.Event = field(default_factory=asyncio.Event)  # an update arrived

    async def _control(self) -> ClientConnection:
        answer = await self.http.post(
            f"/console/sessions/{self.number}/control-ticket", headers={"X-CSRF-Token": self.csrf}
        )
        answer.raise_for_status()
        return await connect(
            ws(self.base) + answer.json()["url"], additional_headers={"Origin": self.base}
        )

    async def _viewer(self, control: ClientConnection) -> ClientConnection:
        await control.send('{"type": "viewer_ticket"}')
        while True:
            message = json.loads(await control.recv())
            if message.get("type") == "viewer_ticket":
                break
        return await connect(
            f"{ws(self.base)}/ws/viewer/{self.number}?ticket={message['ticket']}",
            additional_headers={"Origin": self.base},
            max_size=None,
        )

    async def run(self) -> None:
        delay = CONSOLE_FIRST
        while self.running:
            try:
                control = await self._control()
                viewer = await self._viewer(control)
                delay = CONSOLE_FIRST
                drain = asyncio.create_task(_drain(control))
                try:
                    async for data in viewer:
                        if isinstance(data, bytes) and len(data) >= STAMP.size:
                            self.received.append((STAMP.unpack_from(data)[0], time.time()))
                            self.seeing.set()
                finally:
                    drain.cancel()
            except (ConnectionClosed, InvalidStatus, OSError, TimeoutError, httpx.HTTPError):
                pass
            if self.running:
                await asyncio.sleep(delay)
                delay = min(CONSOLE_CEILING, delay * 2)


async def _drain(socket: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in socket:
            pass


async def signed_in(base: str) -> tuple[httpx.AsyncClient, str]:
    http = httpx.AsyncClient(base_url=base, timeout=20)
    form = await http.get("/console/login")
    token = TOKEN.search(form.text)
    assert token
    answer = await http.post(
        "/console/login",
        data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.text
    dashboard = await http.get("/console/")
    csrf = TOKEN.search(dashboard.text)
    assert csrf
    return http, csrf.group(1)


async def new_session(http: httpx.AsyncClient, csrf: str, base: str) -> tuple[str, str]:
    """A key issued and redeemed: (consultation number, join token)."""
    page = await http.post("/console/sessions", data={"csrf_token": csrf}, follow_redirects=True)
    key = re.search(r"data-support-key>([^<]+)<", page.text)
    number = re.search(r"data-consultation-number>([^<]+)<", page.text)
    assert key and number, page.text[:500]
    async with httpx.AsyncClient(base_url=base, timeout=30) as customer:
        while True:
            answer = await customer.post(
                "/api/v1/join", json={"name": "Erika", "support_key": key.group(1)}
            )
            if answer.status_code == 200:
                return number.group(1), str(answer.json()["token"])
            # Over the cluster-wide guessing budget (1/s after a burst of 60): wait.
            await asyncio.sleep(1.1)


async def live_pair(
    base: str,
    http: httpx.AsyncClient,
    csrf: str,
    period: float,
    agent_base: Callable[[str], str] | None = None,
) -> tuple[Applet, Agent, list[asyncio.Task[None]]]:
    """A consented session, its applet pumping updates and its agent watching; the
    agent's sockets go to ``agent_base(number)`` if given (else through ``base``)."""
    number, token = await new_session(http, csrf, base)
    applet = Applet(base, number, period=period)
    await applet.join(token)
    agent = Agent(http, agent_base(number) if agent_base else base, number, csrf)
    tasks = [asyncio.create_task(applet.run()), asyncio.create_task(agent.run())]
    return applet, agent, tasks


async def stop(applet: Applet, agent: Agent, tasks: list[asyncio.Task[None]]) -> None:
    applet.running = agent.running = False
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    if applet.socket is not None:
        with contextlib.suppress(Exception):
            await applet.socket.close()


def add_agent(running: Cluster) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "supportdesk", "agents", "add", "bench",
         "--name", "Bench Agent", "--role", "agent", "--password-stdin"],
        input=PASSWORD + "\n", cwd=running.workdir / running.names[0],
        env=running.node_environ(running.names[0]), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def holder(running: Cluster, number: str) -> str:
    space = running.environ["SUPPORTDESK_BUS_NAMESPACE"]
    value = subprocess.run(
        ["redis-cli", "-u", ensure_shared_redis(), "GET", f"{space}:lease:session:{number}"],
        capture_output=True, text=True, timeout=10, check=True,
    ).stdout.split()  # fmt: skip
    return value[1]


# -- node death ---------------------------------------------------------------------


async def node_death(running: Cluster, trials: int) -> list[float]:
    http, csrf = await signed_in(running.url)
    times = []
    try:
        for trial in range(trials):
            applet, agent, tasks = await live_pair(running.url, http, csrf, period=0.02)
            await asyncio.wait_for(agent.seeing.wait(), 30)
            victim = holder(running, applet.number)
            killed_at = time.time()
            running.kill(victim)
            deadline = time.monotonic() + 60
            while not any(sent > killed_at for sent, _ in agent.received):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"trial {trial}: the session did not come back")
                await asyncio.sleep(0.02)
            arrived = min(got for sent, got in agent.received if sent > killed_at)
            times.append(arrived - killed_at)
            print(f"  trial {trial + 1}: {victim} killed, picture back after {times[-1]:.2f} s")
            await stop(applet, agent, tasks)
            running.start(victim)
            running.wait_up(victim, timeout=30)
    finally:
        await http.aclose()
    return times


# -- added latency ------------------------------------------------------------------


async def latency(
    base: str,
    sessions: int,
    seconds: float,
    rounds: int,
    agent_base: Callable[[str], str] | None = None,
) -> list[tuple[float, float]]:
    """(p50, p95) in ms per round."""
    http, csrf = await signed_in(base)
    pairs = [
        await live_pair(base, http, csrf, period=0.2, agent_base=agent_base)
        for _ in range(sessions)
    ]
    try:
        for _, agent, _ in pairs:
            await asyncio.wait_for(agent.seeing.wait(), 60)
        results = []
        for _ in range(rounds):
            for _, agent, _ in pairs:
                agent.received.clear()
            await asyncio.sleep(seconds)
            delays = sorted(
                (got - sent) * 1000 for _, agent, _ in pairs for sent, got in agent.received
            )
            results.append((statistics.median(delays), delays[int(len(delays) * 0.95)]))
        return results
    finally:
        for pair in pairs:
            await stop(*pair)
        await http.aclose()


# -- the run ---------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextlib.contextmanager
def started(nodes: int) -> Iterator[Cluster]:
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        environ = {
            "SUPPORTDESK_SECURITY_REDEMPTION_ANSWER_MS": "0",
            "SUPPORTDESK_LOGGING_LEVEL": "WARNING",
        }
        with cluster(Path(folder), nodes=nodes, environ=environ) as running:
            add_agent(running)
            yield running


async def main(arguments: argparse.Namespace) -> str:
    load = os.getloadavg()
    with started(3) as running:
        print(f"node death, {arguments.trials} trials")
        deaths = await node_death(running, arguments.trials)
        print(f"latency, {arguments.sessions} sessions on 3 nodes behind HAProxy")
        three = await latency(running.url, arguments.sessions, arguments.seconds, arguments.rounds)
        print(f"latency, {arguments.sessions} sessions on 3 nodes, the agents' sockets handed on")

        def not_serving(number: str) -> str:
            serving = holder(running, number)
            return running.node_url(next(n for n in running.names if n != serving))

        handed_on = await latency(
            running.url, arguments.sessions, arguments.seconds, arguments.rounds, not_serving
        )
    with started(1) as running:
        print(f"latency, {arguments.sessions} sessions on 1 node behind HAProxy")
        one_proxied = await latency(
            running.url, arguments.sessions, arguments.seconds, arguments.rounds
        )
        print(f"latency, {arguments.sessions} sessions on 1 node directly")
        one = await latency(
            running.node_url(running.names[0]),
            arguments.sessions,
            arguments.seconds,
            arguments.rounds,
        )

    def med(rounds: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in rounds)

    base = med(one, 0)
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; load average (1 min) "
        f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. Every process "
        "(nodes, HAProxy, PostgreSQL, Redis, the stand-ins) shares these CPUs.",
        "",
        f"Resume after SIGKILL of the node serving the session ({len(deaths)} trials, "
        "lease 5 s, from the kill to the agent's first new update):",
        "",
        "| p50 | p95 | max | target |",
        "|---|---|---|---|",
        f"| {_pct(deaths, 0.5):.2f} s | {_pct(deaths, 0.95):.2f} s | {max(deaths):.2f} s "
        "| p95 <= 10 s |",
        "",
        f"Relay latency, {arguments.sessions} live sessions at once, one stamped 2 KiB update "
        f"per session every 200 ms, applet -> relay -> viewer; medians of {arguments.rounds} "
        f"rounds of {arguments.seconds:.0f} s:",
        "",
        "| setup | p50 | p95 | p50 vs one node |",
        "|---|---|---|---|",
        f"| one node, directly | {base:.2f} ms | {med(one, 1):.2f} ms | 1.00x |",
        f"| one node behind HAProxy | {med(one_proxied, 0):.2f} ms | {med(one_proxied, 1):.2f} ms "
        f"| {med(one_proxied, 0) / base:.2f}x |",
        f"| three nodes behind HAProxy | {med(three, 0):.2f} ms | {med(three, 1):.2f} ms "
        f"| {med(three, 0) / base:.2f}x |",
        f"| three nodes, the agent's sockets handed on | {med(handed_on, 0):.2f} ms "
        f"| {med(handed_on, 1):.2f} ms | {med(handed_on, 0) / base:.2f}x |",
    ]
    table = "\n".join(lines)
    print(table)
    return table


def run() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    arguments = parser.parse_args()
    table = asyncio.run(main(arguments))
    if arguments.markdown:
        write_block(
            arguments.markdown, "## Cluster (`python -m bench.cluster`)", "cluster", table + "\n"
        )


if __name__ == "__main__":
    run()
