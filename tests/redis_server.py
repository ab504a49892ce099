"""Real Redis servers for tests: the shared one (started if it is down), and private ones.

The shared server listens on 127.0.0.1:6379 (``SUPPORTDESK_TEST_REDIS_URL`` to point
elsewhere); tests keep apart by a random key namespace each. A test that stops and
restarts Redis gets its own :class:`PrivateRedis` on a free port, never the shared
one. Redis missing or not starting fails the test: it is never skipped (``make
test-deps`` installs the Debian package ``redis-server``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SHARED_URL = os.environ.get("SUPPORTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SHARED_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether a Redis at host:port answers PING."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as link:
            link.sendall(b"PING\r\n")
            return link.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_for(host: str, port: int, up: bool, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(host, port) == up:
            return True
        time.sleep(0.05)
    return False


def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        pytest.fail("redis-server is not installed (Debian: redis-server; run make test-deps)")
    return path


def ensure_shared_redis() -> str:
    """The shared Redis URL; starts the server with the CI command if it is down."""
    parts = urlsplit(SHARED_URL)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if answers(host, port):
        return SHARED_URL
    redis_server_binary()
    for folder in ("/var/lib/redis", "/var/log/redis"):
        Path(folder).mkdir(parents=True, exist_ok=True)
    started = subprocess.run(SHARED_START, capture_output=True, text=True, timeout=30)
    if started.returncode != 0 or not wait_for(host, port, up=True):
        pytest.fail(f"Redis at {host}:{port} is down and did not start: {started.stderr[-2000:]}")
    return SHARED_URL


def namespace() -> str:
    """A key namespace no other test uses."""
    return f"test-{secrets.token_hex(6)}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateRedis:
    """A redis-server of one test's own, on a free port, that the test may stop and restart."""

    def __init__(self, folder: Path, *extra: str) -> None:
        """``extra``: more redis-server arguments (``--replicaof HOST PORT``…)."""
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.extra = extra
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                redis_server_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for("127.0.0.1", self.port, up=True):
            self.kill()
            pytest.fail(f"private redis-server on port {self.port} did not start")

    def shutdown(self) -> None:
        """``redis-cli shutdown nosave``: Redis goes away and forgets everything."""
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            capture_output=True,
            timeout=10,
        )
        if self._process is not None:
            self._process.wait(timeout=10)
            self._process = None
        assert wait_for("127.0.0.1", self.port, up=False)

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


class PrivateSentinel:
    """A Redis Sentinel (redis-server --sentinel) watching one master, on a free port:
    one sentinel, quorum 1, a master counted down after one second."""

    def __init__(self, folder: Path, master: str, master_port: int) -> None:
        self.folder = folder
        self.port = free_port()
        self.master = master
        self.master_port = master_port
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "sentinel.conf"  # Sentinel rewrites it: a file of its own
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.folder}\n"
            f"logfile {self.folder / 'sentinel.log'}\n"
            f"sentinel monitor {self.master} 127.0.0.1 {self.master_port} 1\n"
            f"sentinel down-after-milliseconds {self.master} 1000\n"
            f"sentinel failover-timeout {self.master} 10000\n"
        )
        self._process = subprocess.Popen(
            [redis_server_binary(), str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for("127.0.0.1", self.port, up=True):
            self.kill()
            pytest.fail(f"redis sentinel on port {self.port} did not start")

    def ask(self, *command: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), *command],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None
