"""Configuration: built-in defaults, one TOML file, then SUPPORTDESK_* environment overrides.

Everything is validated at start-up; an invalid value stops the program with a
message that names the key and what is wrong with it. One module a group of
sections (:mod:`.node`, :mod:`.portal`, :mod:`.security`, :mod:`.recording`,
:mod:`.tools`, :mod:`.brand`, :mod:`.metrics`), the whole in :mod:`.settings`, and
how it is read in :mod:`.loading`; the names the rest of the code uses are here.
"""

from .brand import BrandConfig
from .loading import CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE, ENV_PREFIX, load_settings
from .metrics import MetricsConfig
from .node import BusConfig, ClusterConfig, DatabaseConfig, LoggingConfig, ServerConfig
from .portal import HotlineConfig, PhoneConfig, PortalConfig
from .recording import MASTER_KEY_BYTES, RecordingConfig
from .section import ConfigError, Section, Text
from .security import AuditConfig, SecurityConfig, SessionConfig
from .settings import Settings, default_key_file
from .tools import (
    AppletConfig,
    ClipboardConfig,
    DiagnosticsConfig,
    DiagnosticsEndpointConfig,
    MaskingConfig,
    TransferConfig,
)

__all__ = [
    "CONFIG_FILE_ENV",
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "MASTER_KEY_BYTES",
    "AppletConfig",
    "AuditConfig",
    "BrandConfig",
    "BusConfig",
    "ClipboardConfig",
    "ClusterConfig",
    "ConfigError",
    "DatabaseConfig",
    "DiagnosticsConfig",
    "DiagnosticsEndpointConfig",
    "HotlineConfig",
    "LoggingConfig",
    "MaskingConfig",
    "MetricsConfig",
    "PhoneConfig",
    "PortalConfig",
    "RecordingConfig",
    "Section",
    "SecurityConfig",
    "ServerConfig",
    "SessionConfig",
    "Settings",
    "Text",
    "TransferConfig",
    "default_key_file",
    "load_settings",
]
