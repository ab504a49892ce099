"""`make cluster` as a developer runs it: nodes and HAProxy start on the configured
PostgreSQL and Redis, the command prints where to try it, the addresses it prints
answer, and Ctrl-C stops every process."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from scripts.cluster import ROOT
from sqlalchemy.engine import make_url

from tests.bus.conftest import forget_namespace
from tests.cluster.harness import _admin, _run, ensure_haproxy
from tests.conftest import POSTGRES_URL
from tests.redis_server import ensure_shared_redis, free_port, namespace


class Output:
    """A process's standard output, read line by line in the background."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        self._reader = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self._reader.start()

    def wait_for(self, text: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} in {seconds} s; printed: {''.join(self.lines)}")
            time.sleep(0.1)
        return "".join(self.lines)


@pytest.fixture
def database() -> Iterator[str]:
    name = f"supportdesk_make_cluster_{os.getpid()}_{time.monotonic_ns()}"
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_make_cluster_starts_prints_where_and_stops_on_ctrl_c(
    tmp_path: Path, database: str
) -> None:
    ensure_haproxy()
    redis_url, space, port = ensure_shared_redis(), namespace(), free_port()
    environ = {
        **os.environ,
        "SUPPORTDESK_DATABASE_URL": database,
        "SUPPORTDESK_BUS_REDIS_URL": redis_url,
        "SUPPORTDESK_BUS_NAMESPACE": space,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.make_cluster", "--nodes", "2", "--port", str(port),
         "--workdir", str(tmp_path)],
        cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: a failed test kills it whole
    )  # fmt: skip
    try:
        output = Output(process)
        printed = output.wait_for("Ctrl-C stops everything.", 120)
        assert "created database" in printed  # it did not exist
        assert f"try it:   http://127.0.0.1:{port}/" in printed
        portal = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert portal.status_code == 200 and "Fernwartung" in portal.text
        nodes = re.findall(r"(node-[a-z]):\s+(http://\S+)/readyz", printed)
        assert [name for name, _ in nodes] == ["node-a", "node-b"]
        for name, url in nodes:
            ready = httpx.get(f"{url}/readyz", timeout=10).json()
            assert ready["status"] == "ok" and ready["node"] == name
        # The environment file it prints lets the command line reach the same cluster.
        assert (tmp_path / "cluster.env").stat().st_mode & 0o777 == 0o600

        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            logs = {log.parent.name: log.read_text()[-2000:] for log in tmp_path.glob("*/*.log")}
            raise AssertionError(f"Ctrl-C did not stop it within 60 s; the logs: {logs}") from None
        assert code == 0
        assert "stopped" in output.wait_for("stopped", 5)
        for _, url in nodes:
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{url}/readyz", timeout=2)
    finally:
        # The nodes and HAProxy too, should make_cluster itself not have stopped them.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        _run(forget_namespace(redis_url, space))
