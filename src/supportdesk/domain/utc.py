"""Aware UTC instants: the one representation of time the domain core accepts.

The core never reads a clock; callers pass ``now``. Requiring an aware UTC value at
the boundary stops naive local times (the server runs in Europe/Berlin) from
silently shifting expiry and audit timestamps by an hour or two.
"""

from __future__ import annotations

from datetime import datetime, timedelta


class NaiveOrNonUtcTime(ValueError):
    """A datetime passed to the core was naive or not in UTC."""


def require_utc(moment: datetime, name: str = "now") -> datetime:
    """Return ``moment`` unchanged if it is aware and at UTC offset zero, else raise."""
    offset = moment.utcoffset()
    if offset is None:
        raise NaiveOrNonUtcTime(f"{name} must be timezone-aware UTC, got naive {moment!r}")
    if offset != timedelta(0):
        raise NaiveOrNonUtcTime(f"{name} must be UTC, got offset {offset} in {moment!r}")
    return moment


def iso_utc(moment: datetime) -> str:
    """Format an aware UTC instant as fixed-width ISO 8601 with a ``Z`` suffix.

    Fixed width (always microseconds) so the same instant always yields the same
    string: audit hashes depend on it.
    """
    require_utc(moment, "timestamp")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """Read what :func:`iso_utc` wrote; ValueError for anything that is not UTC."""
    return require_utc(datetime.fromisoformat(text.replace("Z", "+00:00")), "timestamp")
