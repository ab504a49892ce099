"""The one small interface every diagnostics probe implements, and what it returns.

A probe has a ``name`` (the wire key), a German and English ``label``, a ``timeout``
and ``run(context) -> ProbeResult``. It reports ``ok`` with data, ``failed`` when
what it checks is broken (a bank endpoint unreachable), or ``unavailable`` when it
cannot tell on this machine (no PC/SC service, not Windows) - always with a reason.
Things an agent should look at even when the probe worked (a clock 45 s off) are
:class:`Finding` s. Probes read no personal data they do not need: no user or host
names, no paths under the home folder, no credentials.
"""

from __future__ import annotations

import ssl
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Protocol

JSONValue = str | int | float | bool | None | Sequence["JSONValue"] | Mapping[str, "JSONValue"]


class ProbeStatus(Enum):
    OK = "ok"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Label:
    """A text in German (what the customer reads) and English."""

    de: str
    en: str

    @classmethod
    def same(cls, text: str) -> Label:
        """For technical text that reads the same in both (an error from the system)."""
        return cls(text, text)

    def text(self, language: str) -> str:
        return self.de if language == "de" else self.en


@dataclass(frozen=True)
class Finding:
    """Something the agent should look at, e.g. ``clock_off``."""

    code: str
    message: Label


@dataclass(frozen=True)
class ProbeResult:
    status: ProbeStatus
    data: Mapping[str, JSONValue] = field(default_factory=dict)
    reason: Label | None = None
    """Why the probe failed or is unavailable; None when ok."""
    findings: tuple[Finding, ...] = ()

    @classmethod
    def ok(cls, data: Mapping[str, JSONValue], *findings: Finding) -> ProbeResult:
        return cls(ProbeStatus.OK, data, None, findings)

    @classmethod
    def failed(
        cls, reason: Label, data: Mapping[str, JSONValue] | None = None, *findings: Finding
    ) -> ProbeResult:
        return cls(ProbeStatus.FAILED, data or {}, reason, findings)

    @classmethod
    def unavailable(cls, reason: Label) -> ProbeResult:
        return cls(ProbeStatus.UNAVAILABLE, {}, reason)


@dataclass(frozen=True)
class Endpoint:
    """One of the bank's services to check: ``kind`` is e.g. ``online_banking``,
    ``fints`` or ``ebics``."""

    kind: str
    host: str
    port: int = 443


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ProbeContext:
    """What the probes get from outside: the server's word and the test's hooks."""

    server_time: datetime | None = None
    """The server's clock (aware), as sent in the diagnostics request."""
    server_time_received: float | None = None
    """``monotonic()`` when that time arrived, to discount the wait since."""
    endpoints: tuple[Endpoint, ...] = ()
    tls: ssl.SSLContext | None = None
    """Trust for the endpoint check; None means the system's default CAs."""
    download_folder: Path | None = None
    network_timeout: float = 4.0
    now: Callable[[], datetime] = _utc_now
    monotonic: Callable[[], float] = time.monotonic
    platform: str = sys.platform


class Probe(Protocol):
    name: str
    label: Label
    timeout: float

    def run(self, context: ProbeContext) -> ProbeResult: ...
