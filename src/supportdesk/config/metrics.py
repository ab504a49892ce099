"""The ``[metrics]`` section of the configuration: who may read ``/metrics``."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from .section import Section, network_list

LOOPBACK = ("127.0.0.0/8", "::1/128")
MIN_TOKEN_LENGTH = 32


class MetricsConfig(Section):
    # false: /metrics answers 404 to everyone.
    enabled: bool = True
    # Client addresses (or CIDR networks) that may read /metrics without a token. The
    # client is who server/client_address.py says it is: behind HAProxy, the address
    # the trusted proxy saw. Setting this replaces the default (loopback only); list
    # "127.0.0.1" again if the node's own scrapes should still work. The environment
    # takes them comma-separated.
    allowed_networks: tuple[str, ...] = LOOPBACK
    # A scraper that sends "Authorization: Bearer <token>" may read /metrics from any
    # address. At least 32 characters; empty: no token is accepted. Best from the
    # environment: SUPPORTDESK_METRICS_BEARER_TOKEN.
    bearer_token: str = Field("", repr=False)

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        return network_list(value)

    @field_validator("bearer_token")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        value = value.strip()
        if value and len(value) < MIN_TOKEN_LENGTH:
            raise ValueError(f"must be empty or at least {MIN_TOKEN_LENGTH} characters")
        return value
