"""The base of every settings section, and the error an unusable value raises."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

Text = str | dict[str, str]
"""A text the portal shows: one string, or one per language ({"de": …, "en": …})."""


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the key."""


class Section(BaseModel):
    """A section of ``supportdesk.toml``: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
