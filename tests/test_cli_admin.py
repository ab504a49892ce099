"""`supportdesk agents` and `supportdesk audit` as an operator runs them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.test_cli import run_cli


def upgrade(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0


def test_agents_add_list_disable_reset(tmp_path: Path) -> None:
    upgrade(tmp_path)
    added = run_cli(tmp_path, "agents", "add", "anna", "--name", "Anna Berger", "--role", "admin")
    assert added.returncode == 0, added.stderr
    assert "initial password (shown once" in added.stdout
    listed = run_cli(tmp_path, "agents", "list")
    assert "anna" in listed.stdout and "admin" in listed.stdout and "active" in listed.stdout
    assert run_cli(tmp_path, "agents", "disable", "anna").returncode == 0
    assert "disabled" in run_cli(tmp_path, "agents", "list").stdout
    reset = run_cli(tmp_path, "agents", "reset-password", "anna")
    assert reset.returncode == 0 and "shown once" in reset.stdout
    short = run_cli(tmp_path, "agents", "add", "bob", "--name", "Bob B", "--password-stdin")
    assert short.returncode == 2  # empty standard input: too short a password
    assert "at least 12 characters" in short.stderr
    missing = run_cli(tmp_path, "agents", "disable", "nobody")
    assert missing.returncode == 2 and "no account named" in missing.stderr


def test_audit_verify_names_the_changed_entry_and_export_writes_json_lines(
    tmp_path: Path,
) -> None:
    upgrade(tmp_path)
    for name in ("anna", "berta", "carl"):
        assert run_cli(tmp_path, "agents", "add", name, "--name", name.title()).returncode == 0
    verified = run_cli(tmp_path, "audit", "verify")
    assert verified.returncode == 0 and "intact: 3 entries" in verified.stdout

    exported = run_cli(tmp_path, "audit", "export", "--since", "2000-01-01")
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [entry["event_type"] for entry in lines[:3]] == ["account.created"] * 3
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    future = run_cli(tmp_path, "audit", "export", "--since", "2999-01-01")
    assert future.stdout == ""
    assert run_cli(tmp_path, "audit", "export", "--since", "gestern").returncode == 2

    database = sqlite3.connect(tmp_path / "var" / "supportdesk.db")
    with database:
        database.execute(
            "UPDATE audit_entries SET data = ? WHERE sequence = 2", ('{"role": "admin"}',)
        )
    database.close()
    broken = run_cli(tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at entry 2: changed" in broken.stderr
