"""The whole validated configuration, one :class:`Settings` of every section."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import model_validator

from supportdesk.domain.hotlines import HotlineDirectory

from .brand import BrandConfig
from .metrics import MetricsConfig
from .node import BusConfig, ClusterConfig, DatabaseConfig, LoggingConfig, ServerConfig
from .portal import HotlineConfig, PortalConfig
from .recording import RecordingConfig
from .section import Section
from .security import AuditConfig, SecurityConfig, SessionConfig
from .tools import (
    AppletConfig,
    ClipboardConfig,
    DiagnosticsConfig,
    MaskingConfig,
    TransferConfig,
)


class Settings(Section):
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
