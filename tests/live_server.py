"""Starting the real server as a user would: migrate, then `supportdesk serve` on a free port."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    workdir: Path
    process: subprocess.Popen[str]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made with openssl; tests trust it explicitly."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def add_agent(server: LiveServer, name: str, password: str, login: str = "anna") -> None:
    """Add an agent account to ``server`` as its administrator would (``agents add``)."""
    added = subprocess.run(
        [sys.executable, "-m", "supportdesk", "agents", "add", login, "--name", name,
         "--password-stdin"],
        input=password + "\n", cwd=server.workdir, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


@contextmanager
def live_server(
    workdir: Path, tls: tuple[Path, Path] | None = None, **environ: str
) -> Iterator[LiveServer]:
    env = {**os.environ, **environ}
    if tls is not None:
        env["SUPPORTDESK_SERVER_TLS_CERT"] = str(tls[0])
        env["SUPPORTDESK_SERVER_TLS_KEY"] = str(tls[1])
    command = [sys.executable, "-m", "supportdesk"]
    subprocess.run([*command, "db", "upgrade"], cwd=workdir, env=env, check=True, timeout=60)
    port = free_port()
    env["SUPPORTDESK_SERVER_PORT"] = str(port)
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(
        [*command, "serve"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(tls[0])) if tls else True
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1, verify=verify).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"server did not start: {(workdir / 'server.log').read_text()}")
            time.sleep(0.2)
        yield LiveServer(url, workdir, process)
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
