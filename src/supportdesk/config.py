"""Configuration: built-in defaults, one TOML file, then SUPPORTDESK_* environment overrides.

Everything is validated at start-up; an invalid value stops the program with a
message that names the key and what is wrong with it.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from supportdesk.branding import BrandConfig
from supportdesk.domain.hotlines import Hotline, HotlineDirectory, LocalizedText, PhoneLine
from supportdesk.domain.mask_rules import InvalidMaskRules, MaskRules
from supportdesk.domain.service_hours import ServiceHours, ServiceHoursError
from supportdesk.metrics_config import MetricsConfig

ENV_PREFIX = "SUPPORTDESK_"
CONFIG_FILE_ENV = "SUPPORTDESK_CONFIG"
DEFAULT_CONFIG_FILE = Path("supportdesk.toml")

Text = str | dict[str, str]


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Origins (scheme://host:port) besides public_url's own from which the console's
    # browser sockets may connect.
    allowed_origins: tuple[str, ...] = ()
    # Proxies (addresses or CIDR networks, e.g. ["10.0.0.5", "fd00:1::/64"]) whose
    # X-Forwarded-For is believed; the environment takes them comma-separated. Empty:
    # none, the socket's peer is the client (server/client_address.py).
    trusted_proxies: tuple[str, ...] = ()
    # Who may read the API's documentation (/api/docs, /api/v1/openapi.json): "staff"
    # (signed-in agents), "public" (anyone), or "off".
    api_docs: Literal["staff", "public", "off"] = "staff"

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part for part in value.replace(",", " ").split())
        for entry in value if isinstance(value, list | tuple) else ():
            try:
                ipaddress.ip_network(str(entry).strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an address or network") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else None

    @property
    def base_url(self) -> str:
        """The public address; by default where this server listens."""
        if self.public_url:
            return self.public_url
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{self.host}:{self.port}"


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///var/supportdesk.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value


class BusConfig(_Section):
    # Redis that the nodes of a cluster share for the key-redemption budget, leases,
    # socket tickets and session events: redis://[:password@]host:6379/0, rediss://,
    # unix://, or redis+sentinel://[:password@]host:26379,host2/<master>/0 for a Redis
    # that fails over under Sentinel (docs/operations.md). Empty: one process,
    # everything in memory. When set, it is used alone: while Redis is down,
    # redemptions are refused rather than counted here.
    redis_url: str = Field("", repr=False)
    # Prefix of every key and channel, so several deployments can share one Redis.
    namespace: str = Field("supportdesk", pattern=r"^[A-Za-z0-9_.-]{1,64}$")

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        from supportdesk.bus.sentinel_url import SCHEME as SENTINEL_SCHEME
        from supportdesk.bus.sentinel_url import parse_sentinel_url

        value = value.strip()
        if value.startswith(SENTINEL_SCHEME):
            parse_sentinel_url(value)  # a ValueError says what is wrong
        elif value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                "must be empty or a redis://, rediss://, unix:// or redis+sentinel:// URL"
            )
        return value


class ClusterConfig(_Section):
    # One node of several (docs/operations.md). node_id names this node in leases and
    # logs (default: host:port); advertise_url is where the other nodes reach it
    # directly, bypassing the load balancer, to hand a session's socket on to the node
    # that holds the session (default: http(s)://host:port).
    node_id: str = Field("", pattern=r"^[A-Za-z0-9_.:-]{0,64}$")
    advertise_url: str = ""
    # Seconds a node's claim on a live session lasts without renewal: after a node
    # dies, another takes its sessions over once this has passed.
    lease_seconds: float = Field(5.0, ge=1.0, le=60.0)

    @field_validator("advertise_url")
    @classmethod
    def _advertise_scheme(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be empty or start with http:// or https://")
        return value


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"


class PortalConfig(_Section):
    bank_name: str = "LIGA Bank eG"
    team_name: str = "LIGA direkt Serviceteam"
    default_language: Literal["de", "en"] = "de"
    email: str | None = None
    timezone: str = "Europe/Berlin"
    holiday_subdivision: str = "BY"
    holiday_categories: tuple[str, ...] = ("public",)
    extra_holidays: tuple[str, ...] = ()
    # The customer's contact detail and description of a service request (and the
    # agents' notes on it) are erased this many days after it was closed ("done");
    # reference, topic, dates and status stay. Run by the daily purge.
    request_retention_days: int = Field(90, ge=1, le=36500)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("extra_holidays")
    @classmethod
    def _month_day(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                month, day = (int(part) for part in item.split("-"))
                date(2024, month, day)  # a leap year admits 02-29
            except ValueError:
                raise ValueError(f"{item!r} is not a month-day like 12-24") from None
        return value


class SecurityConfig(_Section):
    # Hex-encoded server secret (≥ 32 bytes). Empty: read or create secret_key_file
    # (default <key_dir>/secret.key). Every node of a cluster needs the same secret.
    secret_key: str = ""
    secret_key_file: Path | None = None
    login_idle_minutes: int = Field(15, ge=1, le=240)
    login_absolute_hours: int = Field(8, ge=1, le=24)
    # TOTP is required for every role, agents included. Setting this lets accounts of
    # the agent role sign in with a password alone (an agent who enrolled TOTP still
    # needs it): start-up logs a warning and writes it to the audit trail.
    agents_without_totp: bool = False
    support_key_minutes: int = Field(10, ge=1, le=60)
    join_token_minutes: int = Field(5, ge=1, le=30)
    # A live remote-support session ends by itself after this long.
    session_max_minutes: int = Field(120, ge=5, le=600)
    # Answers to a support-key redemption take at least this long, whatever the
    # outcome, so timing tells nothing about the key.
    redemption_answer_ms: int = Field(250, ge=0, le=5000)
    # An agent's open sockets close at once on logout, disabling, password reset and
    # role change (told over the bus to every node); as a backstop each node also looks
    # at the store this often, which catches changes made where no bus reaches (the
    # command line on a single node) and logins that ran out.
    socket_check_seconds: float = Field(1.0, ge=0.1, le=60)
    # Password hashes (Argon2id, ~64 MiB each) run in this many threads beside the
    # event loop; at most password_hash_queue more logins wait, further ones are
    # answered "busy, try again" (503) at once.
    password_hash_workers: int = Field(2, ge=1, le=64)
    password_hash_queue: int = Field(16, ge=0, le=1000)

    @model_validator(mode="before")
    @classmethod
    def _old_totp_switch(cls, values: Any) -> Any:
        if isinstance(values, dict) and "agent_totp_required" in values:
            if str(values["agent_totp_required"]).lower() in ("false", "0", "no", ""):
                raise ValueError(
                    "agent_totp_required was removed: TOTP is now required for agents"
                    " too. To let agents sign in without it (not recommended), set"
                    " agents_without_totp = true"
                )
            values = {k: v for k, v in values.items() if k != "agent_totp_required"}
        return values

    @field_validator("secret_key")
    @classmethod
    def _hex_secret(cls, value: str) -> str:
        if value:
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raise ValueError("must be hex-encoded") from None
            if len(raw) < 32:
                raise ValueError("must be at least 32 bytes (64 hex digits)")
        return value


class AuditConfig(_Section):
    # Key redemptions refused before any key is looked at (throttled, rate-limited)
    # are counted per window of this many seconds: a client's first refusal of a
    # window is an entry at once, the rest of the window one entry with the count.
    refusal_window_seconds: int = Field(60, ge=1, le=3600)
    # Clients counted one by one per window; the refusals of any more are counted
    # together (actor "client:*"), so an attacker changing addresses cannot make the
    # trail grow by one entry per attempt.
    refusal_window_clients: int = Field(1000, ge=1, le=100_000)
    # Entries per page of the console's audit trail (/console/audit).
    page_size: int = Field(100, ge=10, le=1000)


class SessionConfig(_Section):
    # A live session whose customer link dropped waits this long for it to come back
    # before it ends with reason connection_lost.
    reconnect_grace_seconds: float = Field(120, ge=1, le=3600)
    # After a gap longer than this the customer is asked for consent again before
    # anything is captured.
    reconsent_after_seconds: float = Field(30, ge=0, le=3600)
    # Silence on a customer link (no heartbeat, nothing) after which it counts as lost.
    link_timeout_seconds: float = Field(4, ge=1, le=60)


class RecordingConfig(_Section):
    # Where recordings live; by default <data_dir>/recordings.
    directory: Path = Path("var/recordings")
    # Hex-encoded 256-bit master key (64 hex digits) that wraps every recording's
    # data key; SUPPORTDESK_RECORDING_MASTER_KEY sets it. Empty: read master_key_file
    # (default <key_dir>/recording-master.key), created on first start.
    master_key: str = Field("", repr=False)
    master_key_file: Path = Path("var/recording-master.key")
    # Recordings of sessions that ended this long ago are purged (unless on hold).
    retention_days: int = Field(90, ge=1, le=36500)
    # The server's daily purge runs at this hour (UTC).
    purge_hour: int = Field(3, ge=0, le=23)
    # Limits of one session's recording, so one customer can neither fill the disk nor
    # take its bandwidth from the others. A session that reaches its quota (MiB of
    # recorded payload) ends with reason recording_limit; one that records faster than
    # max_mb_per_second (sustained, with burst_mb above it) has its link read slower.
    # An hour of the full-HD benchmark workload records 4.8 GB; a file transfer counts.
    # At least 2 MiB/s: the link's 4 MiB inbox must drain well within the link timeout,
    # or a throttled customer's heartbeats go unread and the link counts as lost.
    session_quota_mb: int = Field(6144, ge=1, le=1024 * 1024)
    max_mb_per_second: float = Field(8, ge=2, le=1024)
    burst_mb: float = Field(32, ge=1, le=4096)

    @field_validator("master_key")
    @classmethod
    def _hex_master_key(cls, value: str) -> str:
        if value:
            _master_key_bytes(value)
        return value

    def master_key_bytes(self, *, create: bool = False) -> bytes:
        """The 32-byte master key: from the setting, else from the key file.

        With ``create`` a missing key file is created (0600) with a fresh key, as
        the server does on first start; without, a missing file is a ConfigError.
        """
        if self.master_key:
            return _master_key_bytes(self.master_key)
        path = self.master_key_file
        if not path.exists():
            if not create:
                raise ConfigError(
                    f"recording.master_key_file: {path} does not exist "
                    "(set recording.master_key or SUPPORTDESK_RECORDING_MASTER_KEY)"
                )
            return _create_master_key_file(path)
        try:
            return _master_key_bytes(path.read_text("ascii").strip())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"recording.master_key_file: {path}: {exc}") from None


MASTER_KEY_BYTES = 32


def _master_key_bytes(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("must be 64 hex digits (a 256-bit key)") from None
    if len(raw) != MASTER_KEY_BYTES:
        raise ValueError("must be 64 hex digits (a 256-bit key)")
    return raw


def _create_master_key_file(path: Path) -> bytes:
    import logging
    import secrets

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = secrets.token_bytes(MASTER_KEY_BYTES)
    try:
        # Owner-only; O_EXCL so two starting nodes cannot race each other.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _master_key_bytes(path.read_text("ascii").strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(raw.hex() + "\n")
    logging.getLogger("supportdesk.recording").warning(
        "created a new recording master key in %s; back it up, recordings cannot be "
        "read without it",
        path,
    )
    return raw


class TransferConfig(_Section):
    # Largest file either side may send in a session, in MiB.
    max_size_mb: int = Field(100, ge=1, le=4096)
    # Incoming transfers the server takes at once per session.
    max_active: int = Field(4, ge=1, le=16)
    # A transfer with no chunk or answer for this many seconds is cancelled ("timeout").
    stall_seconds: int = Field(60, ge=1, le=3600)
    # An offer the other side has not answered after this many seconds is cancelled.
    answer_seconds: int = Field(300, ge=1, le=86400)

    @property
    def max_size(self) -> int:
        return self.max_size_mb * 1024 * 1024


class ClipboardConfig(_Section):
    # Largest clipboard text the console lets an agent send, in KiB of UTF-8. The
    # applet takes at most 256 KiB whatever this says, so only lower values matter.
    max_text_kb: int = Field(256, ge=1, le=256)

    @property
    def max_text(self) -> int:
        return self.max_text_kb * 1024


class MaskingConfig(_Section):
    # The bank's window rules: the support program masks every window whose title
    # contains ``title`` and/or whose application is ``application`` (case ignored),
    # e.g. windows = [{ title = "SecureGo" }, { application = "keepassxc" }].
    # ``rules_version`` names the list in the audit of every consent: change it with them.
    rules_version: str = Field("1", min_length=1, max_length=64)
    windows: tuple[dict[str, str], ...] = Field((), max_length=100)

    @model_validator(mode="after")
    def _rules_are_valid(self) -> MaskingConfig:
        try:
            self.rules  # noqa: B018 - built to be checked
        except InvalidMaskRules as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def rules(self) -> MaskRules:
        return MaskRules.from_json({"version": self.rules_version, "windows": list(self.windows)})


class AppletConfig(_Section):
    # The folder the portal's download page (/fernwartung/programm) offers the support
    # program from: the build's files supportdesk-join-windows.exe,
    # supportdesk-join-macos.zip and supportdesk-join-linux, those present. Unset: the
    # page offers none and points to sharing the screen in the browser.
    download_directory: Path | None = None


class DiagnosticsEndpointConfig(_Section):
    kind: str = Field(pattern=r"^[a-z_]{1,32}$")
    host: str = Field(pattern=r"^[A-Za-z0-9.-]{1,253}$")
    port: int = Field(443, ge=1, le=65535)


class DiagnosticsConfig(_Section):
    # The bank's services the applet's endpoint probe checks (DNS, TCP, TLS).
    endpoints: tuple[DiagnosticsEndpointConfig, ...] = Field((), max_length=8)


class PhoneConfig(_Section):
    number: str = Field(min_length=3)
    menu_choice: int | None = Field(None, ge=0, le=9)
    label: Text | None = None


class HotlineConfig(_Section):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    name: Text
    topics: tuple[Text, ...] = ()
    phones: tuple[PhoneConfig, ...] = Field(min_length=1)
    hours: dict[str, str] | None = None
    round_the_clock: tuple[Text, ...] = ()
    email: str | None = None
    accepts_service_requests: bool = True

    def to_domain(self) -> Hotline:
        hours = None
        if self.hours is not None:
            days = dict(self.hours)
            holiday_rule = days.pop("holidays", "closed")
            try:
                hours = ServiceHours.from_mapping(days, holiday_rule)
            except ServiceHoursError as exc:
                raise ValueError(str(exc)) from None
        return Hotline(
            id=self.id,
            name=LocalizedText.of(self.name),
            topics=tuple(LocalizedText.of(t) for t in self.topics),
            phones=tuple(
                PhoneLine(p.number, p.menu_choice, LocalizedText.of(p.label) if p.label else None)
                for p in self.phones
            ),
            hours=hours,
            round_the_clock=tuple(LocalizedText.of(t) for t in self.round_the_clock),
            email=self.email,
            accepts_service_requests=self.accepts_service_requests,
        )


class Settings(_Section):
    """The whole validated configuration."""

    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    bus: BusConfig = BusConfig()
    cluster: ClusterConfig = ClusterConfig()
    logging: LoggingConfig = LoggingConfig()
    portal: PortalConfig = PortalConfig()
    brand: BrandConfig = BrandConfig()
    security: SecurityConfig = SecurityConfig()
    session: SessionConfig = SessionConfig()
    audit: AuditConfig = AuditConfig()
    recording: RecordingConfig = RecordingConfig()
    transfer: TransferConfig = TransferConfig()
    clipboard: ClipboardConfig = ClipboardConfig()
    diagnostics: DiagnosticsConfig = DiagnosticsConfig()
    applet: AppletConfig = AppletConfig()
    masking: MaskingConfig = MaskingConfig()
    metrics: MetricsConfig = MetricsConfig()
    hotlines: tuple[HotlineConfig, ...] = ()
    data_dir: Path = Path("var")
    # Where the key files are created by default: apart from data_dir (the database,
    # recordings, transfers), so a copy of the data is no copy of the keys. Unset:
    # "keys" beside data_dir (./keys for ./var); SUPPORTDESK_KEY_DIR sets it.
    key_dir: Path = Path("keys")

    @property
    def node_id(self) -> str:
        """This node's name among the cluster's."""
        return self.cluster.node_id or f"{self.server.host}:{self.server.port}"

    @property
    def node_url(self) -> str:
        """Where the other nodes reach this one directly."""
        scheme = "https" if self.server.tls_cert else "http"
        return self.cluster.advertise_url or f"{scheme}://{self.server.host}:{self.server.port}"

    @model_validator(mode="before")
    @classmethod
    def _recording_paths(cls, data: Any) -> Any:
        # Recordings not placed elsewhere live under data_dir; key files not named
        # live in key_dir (an older install's may still be in data_dir: default_key_file).
        if not isinstance(data, dict) or isinstance(data.get("recording"), RecordingConfig):
            return data
        data_dir = Path(data.get("data_dir") or "var")
        key_dir = Path(data.get("key_dir") or data_dir.parent / "keys")
        recording = dict(data.get("recording") or {})
        recording.setdefault("directory", data_dir / "recordings")
        if not recording.get("master_key_file"):
            recording["master_key_file"] = default_key_file(
                key_dir, data_dir, "recording-master.key", "recording.master_key_file"
            )
        security = data.get("security")
        if not isinstance(security, SecurityConfig):
            security = dict(security or {})
            if not security.get("secret_key_file"):
                security["secret_key_file"] = default_key_file(
                    key_dir, data_dir, "secret.key", "security.secret_key_file"
                )
        return {**data, "key_dir": key_dir, "recording": recording, "security": security}

    def directory(self) -> HotlineDirectory:
        return HotlineDirectory(
            tuple(h.to_domain() for h in self.hotlines), email=self.portal.email
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.portal.timezone)


def default_key_file(key_dir: Path, data_dir: Path, name: str, setting: str) -> Path:
    """Where a key file goes when its setting is not given: ``key_dir/name``. An install
    from before key_dir kept it in data_dir: while only that one exists it is used
    (recordings and pseudonyms stay readable), with a warning to move it."""
    path, legacy = key_dir / name, data_dir / name
    if legacy.is_file() and not path.exists():
        import logging

        logging.getLogger("supportdesk.keys").warning(
            "%s lies beside the data in %s, where a copy of the data takes it along: move "
            "it to %s (or set %s) and keep that folder apart from the data and its backups",
            name,
            legacy,
            path,
            setting,
        )
        return legacy
    return path


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
