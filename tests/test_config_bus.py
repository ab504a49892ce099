"""The [bus] settings: in-process unless a Redis URL is given, from the file or the env."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from supportdesk.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def settings(tmp_path: Path, text: str = "", **environ: str) -> Settings:
    config = tmp_path / "supportdesk.toml"
    config.write_text(text)
    return load_settings(config, {"SUPPORTDESK_DATA_DIR": str(tmp_path / "var"), **environ})


def test_no_redis_by_default(tmp_path: Path) -> None:
    bus = settings(tmp_path).bus
    assert (bus.redis_url, bus.namespace) == ("", "supportdesk")


def test_the_url_comes_from_the_file_or_the_environment(tmp_path: Path) -> None:
    from_file = settings(tmp_path, '[bus]\nredis_url = "redis://redis.internal:6379/0"\n')
    assert from_file.bus.redis_url == "redis://redis.internal:6379/0"
    from_env = settings(
        tmp_path,
        SUPPORTDESK_BUS_REDIS_URL="rediss://:s3cret@redis.internal:6380/1",
        SUPPORTDESK_BUS_NAMESPACE="bank-a",
    ).bus
    assert from_env.redis_url == "rediss://:s3cret@redis.internal:6380/1"
    assert from_env.namespace == "bank-a"
    assert "s3cret" not in repr(from_env)


def test_a_wrong_url_is_named_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bus\.redis_url: must be empty or a redis://") as bad:
        settings(tmp_path, SUPPORTDESK_BUS_REDIS_URL="http://user:s3cret@redis:6379")
    assert "s3cret" not in str(bad.value)
    with pytest.raises(ConfigError, match=r"bus\.namespace"):
        settings(tmp_path, SUPPORTDESK_BUS_NAMESPACE="two words")


def test_the_example_file_documents_the_section() -> None:
    example = tomllib.loads((ROOT / "supportdesk.toml.example").read_text("utf-8"))
    assert example["bus"] == {"redis_url": "", "namespace": "supportdesk"}
