"""A cluster for one test: a fresh PostgreSQL database, a random Redis namespace, N
`supportdesk serve` nodes (node-a, node-b, …) and HAProxy in front, all on loopback.

    with cluster(tmp_path, nodes=3) as running:
        httpx.get(running.url + "/")             # through HAProxy
        httpx.get(running.node_url("node-b"))    # one node directly
        running.kill("node-b")                   # SIGKILL
        running.wait_down("node-b")              # HAProxy has taken it out
        running.start("node-b")                  # back, and taken back in

Everything stops, and the database and the namespace are dropped, when the block is
left, also on failure. HAProxy and Redis missing are installed or started, never
skipped (scripts/install-test-deps.sh, tests/redis_server.py).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
import threading
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from scripts.cluster import ROOT, Cluster, ClusterError, running_cluster
from sqlalchemy.engine import make_url

from tests.bus.conftest import forget_namespace
from tests.conftest import POSTGRES_URL
from tests.redis_server import ensure_shared_redis, namespace

__all__ = ["Cluster", "ClusterError", "cluster", "ensure_haproxy"]

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end, also from inside a running event loop (async tests)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def _admin(statement: str) -> None:
    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def ensure_haproxy() -> str:
    """The haproxy binary; installs the Debian package when it is missing."""
    path = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if path is None:
        done = subprocess.run(
            [str(ROOT / "scripts" / "install-test-deps.sh")],
            capture_output=True,
            text=True,
            timeout=900,
        )
        path = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
        if path is None:
            pytest.fail(f"haproxy is missing and did not install: {done.stderr[-2000:]}")
    return path


@contextmanager
def cluster(
    workdir: Path,
    nodes: int = 3,
    environ: Mapping[str, str] | None = None,
    redis_url: str | None = None,
) -> Iterator[Cluster]:
    """N nodes behind HAProxy on a database and a Redis namespace of their own.

    ``environ`` adds settings for every node (``SUPPORTDESK_CLUSTER_LEASE_SECONDS``…);
    ``redis_url`` is a Redis of the test's own (default: the shared one).
    """
    ensure_haproxy()
    redis_url = redis_url or ensure_shared_redis()
    space = namespace()
    name = f"supportdesk_cluster_{secrets.token_hex(6)}"
    _run(_admin(f'CREATE DATABASE "{name}"'))
    database_url = make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    try:
        with running_cluster(workdir, database_url, redis_url, space, nodes, None, environ) as c:
            yield c
    finally:
        _run(forget_namespace(redis_url, space))
        _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
