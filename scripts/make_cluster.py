"""`make cluster`: three supportdesk nodes and HAProxy on loopback until Ctrl-C.

PostgreSQL and Redis as configured (SUPPORTDESK_DATABASE_URL, SUPPORTDESK_BUS_REDIS_URL),
by default the local ones; the database ``supportdesk_cluster`` is created if missing.
Logs, the nodes' data and the cluster's keys live in var/cluster/.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from pathlib import Path

from scripts.cluster import ROOT, ClusterError, running_cluster

SHARED_SETTINGS = (
    "SUPPORTDESK_CONFIG",
    "SUPPORTDESK_DATABASE_URL",
    "SUPPORTDESK_BUS_REDIS_URL",
    "SUPPORTDESK_BUS_NAMESPACE",
    "SUPPORTDESK_SECURITY_SECRET_KEY",
    "SUPPORTDESK_RECORDING_MASTER_KEY",
    "SUPPORTDESK_RECORDING_DIRECTORY",
)
"""What every node shares, written to var/cluster/cluster.env for the command line."""

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/supportdesk_cluster"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _ensure_database(url: str) -> None:
    """Create the cluster's PostgreSQL database when it does not exist yet."""
    import asyncio

    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    if not parsed.drivername.startswith("postgresql") or not name:
        raise ClusterError(f"a cluster needs a postgresql:// database, not {url}")
    maintenance = parsed.set(drivername="postgresql", database="postgres")

    async def create() -> None:
        admin = await asyncpg.connect(maintenance.render_as_string(hide_password=False))
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await admin.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}")
        finally:
            await admin.close()

    asyncio.run(create())


def _ensure_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise ClusterError(f"Redis at {url} does not answer: {exc}") from None


def _key(path: Path) -> str:
    """A 256-bit key kept in ``path`` (made once), so a restarted cluster reads its data."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def main(argv: list[str] | None = None) -> int:
    """`make cluster`: three nodes and HAProxy on loopback until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scripts.make_cluster", description=__doc__)
    parser.add_argument("--nodes", type=int, default=3, choices=range(1, 27), metavar="N")
    parser.add_argument("--port", type=int, default=8000, help="HAProxy's port (8000)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / "var" / "cluster",
        help="logs, data, keys (var/cluster)",
    )
    args = parser.parse_args(argv)
    database_url = os.environ.get("SUPPORTDESK_DATABASE_URL", DEFAULT_DATABASE)
    redis_url = os.environ.get("SUPPORTDESK_BUS_REDIS_URL", DEFAULT_REDIS)
    space = os.environ.get("SUPPORTDESK_BUS_NAMESPACE", "supportdesk-cluster")
    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    shared = {
        "SUPPORTDESK_SECURITY_SECRET_KEY": _key(workdir / "secret.key"),
        "SUPPORTDESK_RECORDING_MASTER_KEY": _key(workdir / "recording-master.key"),
    }
    # Ctrl-C and a SIGTERM both stop the cluster, even where SIGINT came ignored (a
    # shell's background job inherits it so, and Python then leaves it ignored).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.default_int_handler)
    try:
        _ensure_database(database_url)
        _ensure_redis(redis_url)
        print(f"starting {args.nodes} nodes and HAProxy (logs in {workdir}) …", flush=True)
        with running_cluster(
            workdir, database_url, redis_url, space, args.nodes, args.port, shared
        ) as cluster:
            env_file = workdir / "cluster.env"
            env_file.write_text(
                "".join(f"{key}={cluster.environ[key]}\n" for key in SHARED_SETTINGS)
            )
            env_file.chmod(0o600)
            print(f"\n  try it:   {cluster.url}/   (console: {cluster.url}/console/)")
            for name in cluster.names:
                print(f"  {name}:   {cluster.node_url(name)}/readyz")
            print(
                f"  an agent: set -a; . {env_file}; set +a\n"
                "            .venv/bin/supportdesk agents add anna --name 'Anna Berger' "
                "--role admin\n"
                f"  HAProxy:  echo 'show stat' | socat - {cluster.stats_socket}\n"
                "  Ctrl-C stops everything.",
                flush=True,
            )
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
        return 0
    except ClusterError as exc:
        print(f"make cluster: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
