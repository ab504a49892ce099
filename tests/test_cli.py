"""The command line as a user runs it: a real process, a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from supportdesk.cli import build_parser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportdesk", *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_the_commands() -> None:
    text = build_parser().format_help()
    assert "serve" in text and "db" in text


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve")
    assert result.returncode == 2
    assert "supportdesk db upgrade" in result.stderr


def test_invalid_configuration_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "supportdesk.toml").write_text("[server]\nport = 0\n")
    result = run_cli(tmp_path, "serve")
    assert result.returncode == 2
    assert "server.port" in result.stderr


def test_upgrade_then_serve_on_the_embedded_database(tmp_path: Path) -> None:
    upgraded = run_cli(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "var" / "supportdesk.db").exists()
    assert run_cli(tmp_path, "db", "status").returncode == 0

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "supportdesk", "serve"],
        cwd=tmp_path,
        env={**os.environ, "SUPPORTDESK_SERVER_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("server did not start")
                time.sleep(0.2)
        assert ready.json()["status"] == "ok"
        assert "Service-Hotline" in httpx.get(f"http://127.0.0.1:{port}/").text
    finally:
        server.terminate()
        out, err = server.communicate(timeout=15)
    assert out == ""
    # The banner first (tests/test_cli_serve.py), then structured logs: every line
    # after it is a JSON object.
    banner, marker, logs = err.partition("Logs follow (JSON lines on standard error).\n")
    assert marker
    assert f"Portal (customers):  http://127.0.0.1:{port}/" in banner
    assert f"Console (agents):    http://127.0.0.1:{port}/console/" in banner
    import json

    for line in logs.splitlines():
        if line:
            assert isinstance(json.loads(line), dict)


def test_the_join_command_the_portal_shows_parses_a_token_starting_with_a_dash() -> None:
    # token_urlsafe may start with "-": the portal writes --token=TOKEN, one argument.
    from supportdesk.cli import build_parser

    args = build_parser().parse_args(
        ["join", "--server", "https://support.example-bank.de", "--token=-3xAmPlE_tOkEn"]
    )
    assert args.token == "-3xAmPlE_tOkEn"


def test_without_the_server_installed_the_command_says_what_to_install() -> None:
    # Only the support program installed: the server's packages cannot be imported.
    blocked = "import sys; sys.modules['pydantic'] = None; sys.modules['fastapi'] = None"
    done = subprocess.run(
        [sys.executable, "-c", f"{blocked}; from supportdesk.command import main; "
         "raise SystemExit(main(['--help']))"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "supportdesk: the server is not installed here (pydantic is missing): "
        "pip install 'supportdesk[server]'. The support program is supportdesk-join.\n"
    )
