"""A supportdesk cluster on loopback: N `supportdesk serve` nodes behind HAProxy.

The cluster tests (tests/cluster/harness.py) and `make cluster`
(scripts/make_cluster.py) start nodes the same way, with :class:`Cluster`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from scripts.haproxy_config import Balancer, Node, render

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def node_names(count: int) -> list[str]:
    """``node-a``, ``node-b``, … as many as asked for."""
    return [f"node-{chr(ord('a') + index)}" for index in range(count)]


class ClusterError(RuntimeError):
    """A node or HAProxy did not start, or did not reach the state waited for."""


class Cluster:
    """Nodes and HAProxy as child processes; :meth:`stop` ends all of them.

    Every node shares the database, the Redis namespace, the secret key, the
    recording master key and the recording directory; each has its own data
    directory and log (``<workdir>/<node>/server.log``, ``<workdir>/haproxy.log``).
    """

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        redis_url: str,
        namespace: str,
        nodes: int = 3,
        port: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.names = node_names(nodes)
        self.ports = {name: free_port() for name in self.names}
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        # A unix socket's path must stay short; tmp_path may not be.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="sd-haproxy-"))
        self.stats_socket = self._socket_dir / "stats.sock"
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._haproxy: subprocess.Popen[bytes] | None = None
        config = workdir / "cluster.toml"
        node_urls = ", ".join(f'"{self.node_url(name)}"' for name in self.names)
        config.write_text(
            "# Written by scripts/cluster.py for every node of this cluster.\n"
            "[server]\n"
            f'public_url = "{self.url}"\n'
            f"allowed_origins = [{node_urls}]\n"
            f'trusted_proxies = ["{HOST}"]\n'
        )
        self.environ = {
            **os.environ,
            "SUPPORTDESK_CONFIG": str(config),
            "SUPPORTDESK_DATABASE_URL": database_url,
            "SUPPORTDESK_BUS_REDIS_URL": redis_url,
            "SUPPORTDESK_BUS_NAMESPACE": namespace,
            "SUPPORTDESK_SECURITY_SECRET_KEY": secrets.token_hex(32),
            "SUPPORTDESK_RECORDING_MASTER_KEY": secrets.token_hex(32),
            "SUPPORTDESK_RECORDING_DIRECTORY": str(workdir / "recordings"),
            "SUPPORTDESK_SERVER_HOST": HOST,
            **(environ or {}),
        }

    # -- addresses --------------------------------------------------------------

    def node_url(self, name: str) -> str:
        """A node's own address, bypassing HAProxy."""
        return f"http://{HOST}:{self.ports[name]}"

    def node_environ(self, name: str) -> dict[str, str]:
        """The environment `supportdesk` runs with on this node (also for its CLI)."""
        return {
            **self.environ,
            "SUPPORTDESK_DATA_DIR": str(self.workdir / name),
            "SUPPORTDESK_SERVER_PORT": str(self.ports[name]),
            "SUPPORTDESK_CLUSTER_NODE_ID": name,
            "SUPPORTDESK_CLUSTER_ADVERTISE_URL": self.node_url(name),
        }

    def supportdesk(self, *arguments: str, node: str | None = None) -> str:
        """Run the `supportdesk` command line as a node would; its output."""
        name = node or self.names[0]
        done = subprocess.run(  # noqa: S603 (our own interpreter)
            [sys.executable, "-m", "supportdesk", *arguments],
            cwd=self.workdir / name,
            env=self.node_environ(name),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise ClusterError(f"supportdesk {' '.join(arguments)}: {done.stderr[-3000:]}")
        return done.stdout

    # -- life -------------------------------------------------------------------

    def start_all(self) -> None:
        """Migrate, start every node and HAProxy, and wait until all are in."""
        for name in self.names:
            (self.workdir / name).mkdir(parents=True, exist_ok=True)
        self.supportdesk("db", "upgrade")
        for name in self.names:
            self.start(name, wait=False)
        for name in self.names:
            self._wait_node(name)
        self._start_haproxy()
        self.wait_ready()

    def start(self, name: str, wait: bool = True) -> None:
        """Start (or restart) one node on its port; with ``wait``, until HAProxy has it back."""
        if name in self._processes and self._processes[name].poll() is None:
            raise ClusterError(f"{name} is running")
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "server.log").open("ab") as log:
            self._processes[name] = subprocess.Popen(
                [sys.executable, "-m", "supportdesk", "serve"],
                cwd=folder,
                env=self.node_environ(name),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self._wait_node(name)
            if self._haproxy is not None:
                self.wait_up(name)

    def kill(self, name: str) -> None:
        """SIGKILL one node: no shutdown, no goodbye, as when its machine dies."""
        process = self._processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        """End every node and HAProxy (SIGTERM, then SIGKILL what still runs 15 s later)."""
        processes = list(self._processes.values())
        if self._haproxy is not None:
            processes.append(self._haproxy)
        for process in processes:
            if process.poll() is None:
                process.terminate()
        # One deadline for all: a node that hangs must not hold up the others' kill.
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"pid {process.pid} did not stop within 15 s: killed", file=sys.stderr)
                process.kill()
                process.wait(timeout=10)
        self._haproxy = None
        shutil.rmtree(self._socket_dir, ignore_errors=True)

    def _wait_node(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while _status(self.node_url(name) + "/readyz") != 200:
            process = self._processes[name]
            if process.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / name / "server.log").read_text(errors="replace")
                raise ClusterError(f"{name} did not become ready:\n{log[-3000:]}")
            time.sleep(0.1)

    # -- HAProxy ----------------------------------------------------------------

    def haproxy_config(self) -> str:
        nodes = tuple(Node(name, f"{HOST}:{self.ports[name]}") for name in self.names)
        balancer = Balancer(
            nodes=nodes,
            bind=f"{HOST}:{self.port}",
            stats_socket=str(self.stats_socket),
            system=False,
            maxconn=1000,
        )
        return render(balancer)

    def _start_haproxy(self) -> None:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        config = self.workdir / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        checked = subprocess.run(  # noqa: S603 (the installed haproxy)
            [binary, "-c", "-q", "-f", str(config)], capture_output=True, text=True, timeout=30
        )
        if checked.returncode != 0:
            raise ClusterError(f"haproxy refuses {config}: {checked.stderr}")
        with (self.workdir / "haproxy.log").open("ab") as log:
            self._haproxy = subprocess.Popen(  # noqa: S603
                [binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )

    def served_by(self, marker: str, timeout: float = 5) -> str:
        """The node HAProxy sent the request with ``marker`` in its line to (its log)."""
        deadline = time.monotonic() + timeout
        while True:
            log = (self.workdir / "haproxy.log").read_text(errors="replace")
            for line in log.splitlines():
                if marker in line and (found := re.search(r" nodes/([\w.-]+) ", line)):
                    return found.group(1)
            if time.monotonic() > deadline:
                raise ClusterError(f"no line with {marker!r} in haproxy.log")
            time.sleep(0.05)

    def server_states(self) -> dict[str, str]:
        """Each node's state in HAProxy's backend: "UP", "DOWN", "UP 1/2", …"""
        with socket.socket(socket.AF_UNIX) as link:
            link.settimeout(2)
            link.connect(str(self.stats_socket))
            link.sendall(b"show stat\n")
            chunks = []
            while chunk := link.recv(65536):
                chunks.append(chunk)
        text = b"".join(chunks).decode().removeprefix("# ")
        return {
            row["svname"]: row["status"]
            for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "nodes" and row["svname"] in self.ports
        }

    def _wait_states(self, wanted: Mapping[str, str], timeout: float, what: str) -> float:
        started = time.monotonic()
        states: dict[str, str] = {}
        while time.monotonic() - started < timeout:
            if self._haproxy is not None and self._haproxy.poll() is not None:
                log = (self.workdir / "haproxy.log").read_text(errors="replace")
                raise ClusterError(f"haproxy has exited:\n{log[-3000:]}")
            with contextlib.suppress(OSError):
                states = self.server_states()
                if all(states.get(name) == state for name, state in wanted.items()):
                    return time.monotonic() - started
            time.sleep(0.05)
        raise ClusterError(f"{what} within {timeout} s; HAProxy says {states}")

    def wait_down(self, name: str, timeout: float = 10) -> float:
        """Wait until HAProxy has taken the node out; the seconds it took."""
        return self._wait_states({name: "DOWN"}, timeout, f"{name} not taken out")

    def wait_up(self, name: str, timeout: float = 10) -> float:
        """Wait until HAProxy sends to the node again; the seconds it took."""
        return self._wait_states({name: "UP"}, timeout, f"{name} not taken back")

    def wait_ready(self, timeout: float = 30) -> None:
        """Every node in HAProxy and the cluster answering through it."""
        self._wait_states({name: "UP" for name in self.names}, timeout, "nodes not all up")
        deadline = time.monotonic() + timeout
        while _status(self.url + "/readyz") != 200:
            if time.monotonic() > deadline:
                raise ClusterError(f"{self.url}/readyz does not answer 200")
            time.sleep(0.1)


def _status(url: str) -> int | None:
    """A GET's status code, None when nothing answers (stdlib only: no client needed)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (loopback)
            status: int = answer.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@contextlib.contextmanager
def running_cluster(
    workdir: Path,
    database_url: str,
    redis_url: str,
    namespace: str,
    nodes: int = 3,
    port: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Cluster]:
    """A started cluster that is stopped on leaving, whatever happened."""
    cluster = Cluster(workdir, database_url, redis_url, namespace, nodes, port, environ)
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop()
