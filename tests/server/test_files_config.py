"""The `[transfer]` and `[diagnostics]` settings reach the session's files as limits
and endpoints; bad values are refused with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.config import ConfigError, load_settings
from supportdesk.diagnostics.probe import Endpoint
from supportdesk.server.relay.session_files import FilesSetup


def test_the_sections_become_limits_endpoints_and_a_staging_root(tmp_path: Path) -> None:
    path = tmp_path / "supportdesk.toml"
    path.write_text(
        "data_dir = 'daten'\n[transfer]\nmax_size_mb = 5\nmax_active = 2\n"
        "[diagnostics]\nendpoints = [{ kind = 'fints', host = 'fints.example.de' }]\n"
    )
    setup = FilesSetup.from_settings(load_settings(path, {"SUPPORTDESK_TRANSFER_MAX_ACTIVE": "3"}))
    assert setup.limits.max_size == 5 * 1024 * 1024 and setup.limits.max_active == 3
    assert setup.endpoints == (Endpoint("fints", "fints.example.de", 443),)
    assert setup.root == Path("daten") / "transfers"


def test_defaults_are_100_mib_and_no_endpoints(tmp_path: Path) -> None:
    empty = tmp_path / "supportdesk.toml"
    empty.write_text("")
    setup = FilesSetup.from_settings(load_settings(empty, {}))
    assert setup.limits.max_size == 100 * 1024 * 1024 and setup.endpoints == ()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[transfer]\nmax_size_mb = 0\n", "transfer.max_size_mb"),
        ("[diagnostics]\nendpoints = [{ kind = 'fints', host = 'a b' }]\n", "host"),
    ],
)
def test_bad_values_name_their_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "supportdesk.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=key):
        load_settings(path, {})
