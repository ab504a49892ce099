"""The base of every settings section, and the error an unusable value raises."""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import BaseModel, ConfigDict

Text = str | dict[str, str]
"""A text the portal shows: one string, or one per language ({"de": …, "en": …})."""


def network_list(value: Any) -> Any:
    """A list of addresses or CIDR networks, also as one comma- or space-separated
    string (how the environment gives it); a ValueError names the entry that is neither."""
    if isinstance(value, str):
        value = tuple(part for part in value.replace(",", " ").split())
    for entry in value if isinstance(value, list | tuple) else ():
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an address or network") from None
    return value


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the key."""


class Section(BaseModel):
    """A section of ``supportdesk.toml``: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
