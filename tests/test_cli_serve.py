"""``supportdesk serve`` as an operator starts it: --host/--port above the file and the
environment, the next steps printed before the logs, the http:// warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from supportdesk.cli import build_parser
from supportdesk.cli.serve_banner import own_command
from supportdesk.config import ServerConfig
from supportdesk.server.public_address import insecure_public_address, is_loopback_host
from tests.test_cli import free_port, run_cli

SCRIPT = Path(sys.executable).parent / "supportdesk"


def test_help_names_the_flags_and_what_they_beat() -> None:
    parser = build_parser()
    serve = parser._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    text = " ".join(serve.format_help().split())
    assert "--host HOST" in text and "--port PORT" in text
    assert "beat [server] host and port of the configuration file" in text
    assert "SUPPORTDESK_SERVER_PORT" in text


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_port_that_is_none_is_refused_by_name(port: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--port", port])


@contextmanager
def serving(
    workdir: Path, *args: str, command: list[str] | None = None, **env: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``serve`` with ``args`` until the block ends; yields the process and its URL."""
    port = next((a.split("=", 1)[1] for a in args if a.startswith("--port=")), None)
    assert port is not None
    process = subprocess.Popen(
        [*(command or [sys.executable, "-m", "supportdesk"]), "serve", *args],
        cwd=workdir,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"server did not start: {process.communicate(timeout=15)}")
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()


def banner_and_logs(stderr: str) -> tuple[str, list[dict[str, object]]]:
    """Standard error split into the banner (up to its closing line) and log entries:
    every line after the banner must be one JSON object."""
    banner, marker, logs = stderr.partition("Logs follow (JSON lines on standard error).\n")
    assert marker, stderr
    entries = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert all(isinstance(entry, dict) for entry in entries)
    return banner, entries


def test_flags_beat_the_file_and_the_environment_and_the_banner_comes_first(
    tmp_path: Path,
) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    configured, from_environment, flagged = free_port(), free_port(), free_port()
    (tmp_path / "supportdesk.toml").write_text(
        f'[server]\nhost = "192.0.2.1"\nport = {configured}\n'
    )
    with serving(
        tmp_path,
        "--host",
        "127.0.0.1",
        f"--port={flagged}",
        command=[str(SCRIPT)],
        SUPPORTDESK_SERVER_PORT=str(from_environment),
    ) as (process, url):
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        for other in (configured, from_environment):
            with pytest.raises(httpx.TransportError):
                httpx.get(f"http://127.0.0.1:{other}/healthz", timeout=1)
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert out == ""
    banner, logs = banner_and_logs(err)
    assert f"starting on 127.0.0.1:{flagged}" in banner
    # The first agent's command, runnable from anywhere: the script's full path.
    assert f"    {SCRIPT} agents add USERNAME --name 'Full Name' --role admin\n" in banner, banner
    assert f"in {tmp_path}" in banner
    assert f"Portal (customers):  {url}/\n" in banner
    assert f"Console (agents):    {url}/console/\n" in banner
    assert "WARNING" not in banner  # loopback: the customer's program is not expected
    assert any(entry["msg"] == "Application startup complete." for entry in logs)
    assert not any("customer-facing address" in str(entry["msg"]) for entry in logs)


def test_an_http_public_address_elsewhere_is_warned_of_logged_and_audited(
    tmp_path: Path,
) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    port = free_port()
    public = "http://support.example-bank.de"
    with serving(tmp_path, f"--port={port}", SUPPORTDESK_SERVER_PUBLIC_URL=public) as started:
        process = started[0]
        process.terminate()
        _, err = process.communicate(timeout=30)
    banner, logs = banner_and_logs(err)
    flat = " ".join(banner.split())
    assert f"WARNING: the customer-facing address is {public}, plain http://" in flat
    assert "requires TLS 1.3" in flat
    warned = [e for e in logs if "customer-facing address" in str(e["msg"])]
    assert [e["level"] for e in warned] == ["warning"]
    exported = run_cli(tmp_path, "audit", "export")
    entries = [json.loads(line) for line in exported.stdout.splitlines()]
    audited = [e for e in entries if e["event_type"] == "security.public_address_insecure"]
    assert len(audited) == 1 and public in audited[0]["data"]["warning"]


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        ({"public_url": "http://support.example-bank.de"}, True),
        ({"public_url": "http://10.0.0.7:8080"}, True),
        ({"host": "0.0.0.0"}, True),  # default address http://0.0.0.0:8080: not loopback
        ({"public_url": "https://support.example-bank.de"}, False),
        ({"host": "0.0.0.0", "tls_cert": "c.pem", "tls_key": "k.pem"}, False),
        ({}, False),  # http://127.0.0.1:8080
        ({"public_url": "http://localhost:8080"}, False),
        ({"public_url": "http://[::1]:8080"}, False),
        ({"public_url": "http://127.0.0.2"}, False),
    ],
)
def test_which_addresses_are_warned_of(settings: dict[str, str], warned: bool) -> None:
    assert (insecure_public_address(ServerConfig(**settings)) is not None) is warned


def test_loopback_names() -> None:
    assert is_loopback_host("localhost") and is_loopback_host("app.localhost.")
    assert is_loopback_host("::1") and is_loopback_host("[::1]")
    assert not is_loopback_host("localhost.example.de") and not is_loopback_host("0.0.0.0")


def test_own_command_is_the_script_or_the_interpreter() -> None:
    assert own_command(".venv/bin/supportdesk", "/usr/bin/python3") == [
        os.path.abspath(".venv/bin/supportdesk")
    ]
    module = "/srv/app/src/supportdesk/__main__.py"
    assert own_command(module, "/srv/app/.venv/bin/python") == [
        "/srv/app/.venv/bin/python",
        "-m",
        "supportdesk",
    ]
