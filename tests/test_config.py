"""Configuration: defaults, the TOML file, environment overrides, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from supportdesk.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "supportdesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_carry_the_banks_lines(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), {})
    directory = settings.directory()
    assert [line.id for line in directory.hotlines] == [
        "online-banking",
        "profi-cash-ebics",
        "pos-card-process",
    ]
    online = directory.get("online-banking")
    assert online is not None
    assert online.phones[0].number == "0941 4095-387" and online.phones[0].menu_choice == 1
    assert "Verfahren VR-NetKey" in [t.in_language("de") for t in online.topics]
    pos = directory.get("pos-card-process")
    assert pos is not None
    assert [p.number for p in pos.phones] == ["0721 1209 66003", "0721 1209 66008"]
    assert directory.email == "ligadirekt@ligabank.de"
    assert settings.database.url.startswith("sqlite+aiosqlite:///")


def test_the_example_file_in_the_repository_is_valid() -> None:
    example = Path(__file__).parent.parent / "supportdesk.toml.example"
    settings = load_settings(example, {})
    assert settings.server.port == 8080


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 9000\nhost = '0.0.0.0'\n")
    settings = load_settings(path, {"SUPPORTDESK_SERVER_PORT": "9100"})
    assert settings.server.port == 9100
    assert settings.server.host == "0.0.0.0"


def test_postgres_url_from_environment_gets_the_async_driver(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, ""), {"SUPPORTDESK_DATABASE_URL": "postgresql://postgres@127.0.0.1/x"}
    )
    assert settings.database.url == "postgresql+asyncpg://postgres@127.0.0.1/x"


def test_hotlines_in_the_file_replace_the_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[hotlines]]
id = "test-line"
name = "Testlinie"
phones = [{ number = "089 123456" }]
[hotlines.hours]
mon = "09:00-12:00"
holidays = "closed"
""",
    )
    directory = load_settings(path, {}).directory()
    assert [line.id for line in directory.hotlines] == ["test-line"]


@pytest.mark.parametrize(
    ("text", "environ", "names"),
    [
        ("[server]\nport = 70000\n", {}, "server.port"),
        ("[server]\nprot = 1\n", {}, "server.prot: unknown setting"),
        ("", {"SUPPORTDESK_SERVER_PORT": "abc"}, "server.port"),
        ("", {"SUPPORTDESK_DATABASE_URL": "mysql://x"}, "database.url"),
        ("[portal]\ntimezone = 'Mars/Olympus'\n", {}, "portal.timezone"),
        ("[portal]\nextra_holidays = ['13-01']\n", {}, "portal.extra_holidays"),
        ("", {"SUPPORTDESK_NOSUCH_THING": "1"}, "SUPPORTDESK_NOSUCH_THING"),
        (
            "[[hotlines]]\nid='x'\nname='X'\nphones=[{number='089 1'}]\n"
            "[hotlines.hours]\nmon='18:00-08:00'\n",
            {},
            "hotlines.0.hours (x)",
        ),
        ("[server\n", {}, "not valid TOML"),
    ],
)
def test_invalid_configuration_names_the_key(
    tmp_path: Path, text: str, environ: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, text), environ)
    assert names in str(error.value)


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(None, {"SUPPORTDESK_CONFIG": str(tmp_path / "nope.toml")})


def test_the_deployment_environment_example_is_valid(tmp_path: Path) -> None:
    """deploy/supportdesk.env.example names only settings that exist, with valid values."""
    example = Path(__file__).parent.parent / "deploy" / "supportdesk.env.example"
    environ: dict[str, str] = {}
    for line in example.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            environ[name] = value
    key = "ab" * 32  # the example leaves the secrets empty, to be generated per bank
    environ |= {"SUPPORTDESK_SECURITY_SECRET_KEY": key, "SUPPORTDESK_RECORDING_MASTER_KEY": key}
    settings = load_settings(write(tmp_path, ""), environ)
    assert settings.node_id == "node-a"
    assert "10.0.0.11" in settings.server.trusted_proxies  # the nodes hand sockets on
    assert settings.database.url.startswith("postgresql")


def test_the_example_file_names_every_setting() -> None:
    """README: "supportdesk.toml.example documents every key" (set, or commented out)."""
    from pydantic import BaseModel

    from supportdesk.config import Settings

    text = (Path(__file__).parent.parent / "supportdesk.toml.example").read_text("utf-8")
    missing = []
    for section, field in Settings.model_fields.items():
        kind = field.annotation
        if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
            continue  # hotlines and data_dir: documented in their own ways
        if f"[{section}]" not in text:
            missing.append(f"[{section}]")
        for key in kind.model_fields:
            if not re.search(rf"^(# )?{key} = ", text, re.MULTILINE):
                missing.append(f"{section}.{key}")
    assert missing == []


def test_masking_rules_come_from_the_masking_table() -> None:
    from supportdesk.config import MaskingConfig
    from supportdesk.domain.mask_rules import WindowRule

    config = MaskingConfig(
        rules_version="2027-01", windows=({"title": "SecureGo"}, {"application": "keepassxc"})
    )
    assert config.rules.version == "2027-01"
    assert config.rules.windows == (
        WindowRule(title="SecureGo"),
        WindowRule(application="keepassxc"),
    )
    with pytest.raises(ValueError, match="title or an application"):
        MaskingConfig(windows=({"title": " "},))
