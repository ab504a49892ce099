"""The bus on a Redis that fails over under Sentinel, with real processes: a master, a
replica and a sentinel; the master is killed, the sentinel promotes the replica, and
the bus goes on against it (leases replicated before the failure are still there; a
subscription is told it may have missed events, then hears new ones)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from supportdesk.bus import MISSED, BusUnavailable, Subscription, connect
from supportdesk.bus.interfaces import Message
from tests.redis_server import PrivateRedis, PrivateSentinel, namespace

MASTER = "supportdesk"


@dataclass
class Failover:
    master: PrivateRedis
    replica: PrivateRedis
    sentinel: PrivateSentinel

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel.port}/{MASTER}/0"

    def master_port(self) -> int | None:
        answer = self.sentinel.ask("SENTINEL", "get-master-addr-by-name", MASTER).split()
        return int(answer[1]) if len(answer) == 2 else None


def replica_in_sync(replica: PrivateRedis) -> bool:
    info = subprocess.run(
        ["redis-cli", "-p", str(replica.port), "INFO", "replication"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return "master_link_status:up" in info


def replica_has_lease(failover: Failover) -> bool:
    keys = subprocess.run(
        ["redis-cli", "-p", str(failover.replica.port), "--scan", "--pattern", "*lease:session:1"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return bool(keys.strip())


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds} s")
        time.sleep(0.1)


@pytest.fixture
def failover(tmp_path: Path) -> Iterator[Failover]:
    master = PrivateRedis(tmp_path / "master")
    master.folder.mkdir()
    master.start()
    replica = PrivateRedis(tmp_path / "replica", "--replicaof", "127.0.0.1", str(master.port))
    replica.folder.mkdir()
    sentinel = PrivateSentinel(tmp_path / "sentinel", MASTER, master.port)
    try:
        replica.start()
        wait_until(lambda: replica_in_sync(replica), 15, "the replica's first sync")
        sentinel.start()
        wait_until(
            lambda: f"{replica.port}" in sentinel.ask("SENTINEL", "replicas", MASTER),
            15,
            "the sentinel finding the replica",
        )
        yield Failover(master, replica, sentinel)
    finally:
        for process in (sentinel, replica, master):
            process.kill()


async def next_message(subscription: Subscription) -> Message:
    return await asyncio.wait_for(subscription.__anext__(), 15)


async def test_the_bus_follows_a_sentinel_failover(failover: Failover) -> None:
    bus = connect(failover.url, namespace=namespace())
    try:
        assert bus.where.startswith(f"redis+sentinel://127.0.0.1:{failover.sentinel.port}")
        subscription = await bus.events.subscribe("sessions")
        await bus.events.publish("sessions", {"n": 1})
        assert await next_message(subscription) == {"n": 1}
        lease = await bus.leases.acquire("session:1", "node-a", 60)
        assert lease is not None and await bus.buckets.take("guesses", 1, 60)
        assert failover.master_port() == failover.master.port
        # What the master acknowledged has reached the replica before the master dies.
        wait_until(lambda: replica_has_lease(failover), 10, "replication of the lease")

        failover.master.kill()  # SIGKILL: no goodbye to anyone
        killed = time.monotonic()
        holder = None
        while holder is None:
            try:
                holder = await bus.leases.holder("session:1")
            except BusUnavailable:
                assert time.monotonic() - killed < 30, "the bus never reached the new master"
                await asyncio.sleep(0.2)
        assert holder.holder == "node-a" and holder.token == lease.token
        assert failover.master_port() == failover.replica.port  # promoted
        assert await bus.leases.renew(lease)
        assert await bus.buckets.take("guesses", 1, 60)
        ticket = await bus.tickets.issue("control", 30)
        assert await bus.tickets.take(ticket) == "control"
        # The subscription lost its link: it says so, then hears the new master's events.
        assert await next_message(subscription) == MISSED
        received = asyncio.ensure_future(next_message(subscription))
        while not received.done():
            await bus.events.publish("sessions", {"n": 2})
            await asyncio.sleep(0.05)
        assert received.result() == {"n": 2}
        await subscription.aclose()
    finally:
        await bus.close()
