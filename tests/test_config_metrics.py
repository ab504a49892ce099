"""The [metrics] settings: loopback by default, networks and a token from the file or
the environment, mistakes named without echoing the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.config import ConfigError, Settings, load_settings
from supportdesk.config.metrics import LOOPBACK

TOKEN = "t" * 40


def settings(tmp_path: Path, text: str = "", **environ: str) -> Settings:
    config = tmp_path / "supportdesk.toml"
    config.write_text(text)
    return load_settings(config, {"SUPPORTDESK_DATA_DIR": str(tmp_path / "var"), **environ})


def test_by_default_loopback_and_no_token(tmp_path: Path) -> None:
    metrics = settings(tmp_path).metrics
    assert (metrics.enabled, metrics.allowed_networks, metrics.bearer_token) == (
        True,
        LOOPBACK,
        "",
    )


def test_networks_and_token_from_the_file_or_the_environment(tmp_path: Path) -> None:
    from_file = settings(
        tmp_path,
        f'[metrics]\nallowed_networks = ["10.9.0.0/16", "::1"]\nbearer_token = "{TOKEN}"\n',
    ).metrics
    assert from_file.allowed_networks == ("10.9.0.0/16", "::1")
    assert from_file.bearer_token == TOKEN
    assert TOKEN not in repr(from_file)
    from_env = settings(
        tmp_path,
        SUPPORTDESK_METRICS_ALLOWED_NETWORKS="10.9.0.0/16, 127.0.0.1",
        SUPPORTDESK_METRICS_ENABLED="false",
    ).metrics
    assert from_env.allowed_networks == ("10.9.0.0/16", "127.0.0.1")
    assert from_env.enabled is False


def test_mistakes_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.allowed_networks: 'intranet' is not"):
        settings(tmp_path, SUPPORTDESK_METRICS_ALLOWED_NETWORKS="intranet")
    with pytest.raises(
        ConfigError, match=r"metrics\.bearer_token: must be empty or at least"
    ) as short:
        settings(tmp_path, SUPPORTDESK_METRICS_BEARER_TOKEN="short-secret")
    assert "short-secret" not in str(short.value)
