"""Where this node listens and what it stands on.

``[server]``, ``[database]``, ``[bus]``, ``[cluster]`` and ``[logging]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from .section import Section, network_list


class ServerConfig(Section):
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
        return network_list(value)

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


class DatabaseConfig(Section):
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


class BusConfig(Section):
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


class ClusterConfig(Section):
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


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"
