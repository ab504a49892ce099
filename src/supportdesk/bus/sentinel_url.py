"""``redis+sentinel://`` addresses: a Redis found through Redis Sentinel.

With Sentinel, Redis fails over on its own: the sentinels watch a master and its
replicas and promote a replica when the master dies; clients ask the sentinels where
the master is now. The bus takes such an address in the same setting as a plain one
(``[bus] redis_url``)::

    redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/<master name>[/<db>]
        [?sentinel_password=...]

The password is the Redis servers' (``requirepass``); the sentinels' own, if they
have one, goes in ``sentinel_password``. The port defaults to 26379, Sentinel's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

__all__ = ["SCHEME", "SentinelAddress", "parse_sentinel_url"]

SCHEME = "redis+sentinel://"
DEFAULT_PORT = 26379
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9_.-]+))(?::(?P<port>\d+))?$")
_MASTER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class SentinelAddress:
    """Where the sentinels are, which master they watch, and how to log in."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def parse_sentinel_url(url: str) -> SentinelAddress:
    """The parts of a ``redis+sentinel://`` URL; ValueError saying what is wrong (never
    quoting the password)."""
    if not url.startswith(SCHEME):
        raise ValueError(f"a Sentinel address starts with {SCHEME}")
    rest, _, query = url[len(SCHEME) :].partition("?")
    where, slash, path = rest.partition("/")
    if not slash or not path:
        raise ValueError("a Sentinel address names the master: redis+sentinel://host/<master>")
    username = password = None
    if "@" in where:
        credentials, where = where.rsplit("@", 1)
        user, colon, secret = credentials.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    sentinels = tuple(_host(part) for part in where.split(","))
    master, _, db_text = path.partition("/")
    if not _MASTER.match(master):
        raise ValueError(f"{master!r} is not a Sentinel master name")
    db_text = db_text.rstrip("/")
    if db_text and not db_text.isdigit():
        raise ValueError(f"{db_text!r} is not a database number")
    options = parse_qs(query, keep_blank_values=True) if query else {}
    unknown = set(options) - {"sentinel_password"}
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(sorted(unknown))}")
    sentinel_password = options.get("sentinel_password", [None])[-1]
    return SentinelAddress(
        sentinels,
        master,
        int(db_text or 0),
        username,
        password,
        sentinel_password or None,
    )


def _host(text: str) -> tuple[str, int]:
    found = _HOST.match(text.strip())
    if not found:
        raise ValueError(f"{text!r} is not a sentinel's host[:port]")
    port = int(found["port"] or DEFAULT_PORT)
    if not 0 < port < 65536:
        raise ValueError(f"{port} is not a port")
    return found["v6"] or found["name"], port
