"""Reading the configuration: built-in defaults, one TOML file, then the environment.

``SUPPORTDESK_SERVER_PORT=9000`` overrides ``[server] port``; secrets are never echoed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .section import ConfigError
from .settings import Settings

ENV_PREFIX = "SUPPORTDESK_"
CONFIG_FILE_ENV = "SUPPORTDESK_CONFIG"
DEFAULT_CONFIG_FILE = Path("supportdesk.toml")


def _defaults() -> dict[str, Any]:
    text = resources.files("supportdesk").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``SUPPORTDESK_SERVER_PORT=9000`` becomes ``{"server": {"port": "9000"}}``."""
    sections = {name for name, f in Settings.model_fields.items() if f.annotation is not Path}
    overrides: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_FILE_ENV:
            continue
        rest = name.removeprefix(ENV_PREFIX).lower()
        if rest in ("data_dir", "key_dir"):
            overrides[rest] = value
            continue
        section, _, key = rest.partition("_")
        if section not in sections or not key or section == "hotlines":
            raise ConfigError(f"{name}: no such setting (expected SUPPORTDESK_<SECTION>_<KEY>)")
        overrides.setdefault(section, {})[key] = value
    return overrides


_SECRET_KEYS = {
    "security.secret_key",
    "recording.master_key",
    "bus.redis_url",
    "metrics.bearer_token",
}


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting"
        # Never echo a secret, not even a malformed one, into logs and terminals.
        got = "<hidden>" if key in _SECRET_KEYS else repr(item.get("input"))
        lines.append(f"{key}: {message} (got {got})")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file (if it exists), then the environment."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = Path(environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
        explicit = CONFIG_FILE_ENV in environ
    else:
        explicit = True
    data = _defaults()
    if path.exists():
        try:
            from_file = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        data = _merge(data, from_file)
    elif explicit:
        raise ConfigError(f"{path}: configuration file not found")
    data = _merge(data, _env_overrides(environ))
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    for index, hotline in enumerate(settings.hotlines):
        try:
            hotline.to_domain()
        except ValueError as exc:
            raise ConfigError(
                f"invalid configuration:\n  hotlines.{index}.hours ({hotline.id}): {exc}"
            ) from None
    try:
        settings.directory()
    except ValueError as exc:
        raise ConfigError(f"invalid configuration:\n  hotlines: {exc}") from None
    return settings
