"""The diagnostics messages on the applet link's control channel, both directions.

``diagnostics_request`` (relay -> applet) carries the server's time and the bank's
endpoints to check; the applet answers with ``diagnostics_report`` once the customer
agreed to send, or ``diagnostics_withheld`` if the customer kept it back.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from supportdesk.diagnostics.probe import Endpoint, ProbeContext
from supportdesk.diagnostics.report import DiagnosticsReport, InvalidReport

MAX_ENDPOINTS = 8
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}")
_KIND = re.compile(r"[a-z_]{1,32}")


class InvalidDiagnosticsMessage(ValueError):
    """A ``diagnostics_*`` message that breaks its schema."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidDiagnosticsMessage(message)


def _id(value: object) -> str:
    _check(isinstance(value, str) and _ID.fullmatch(value) is not None, "bad request id")
    assert isinstance(value, str)
    return value


@dataclass(frozen=True)
class DiagnosticsRequest:
    TYPE: ClassVar[str] = "diagnostics_request"
    id: str
    server_time: datetime
    endpoints: tuple[Endpoint, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "id": self.id,
            "server_time": self.server_time.isoformat(),
            "endpoints": [{"kind": e.kind, "host": e.host, "port": e.port} for e in self.endpoints],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DiagnosticsRequest:
        _check(set(data) == {"type", "id", "server_time", "endpoints"}, "request fields")
        try:
            server_time = datetime.fromisoformat(str(data["server_time"]))
        except ValueError:
            raise InvalidDiagnosticsMessage("server_time is not an ISO time") from None
        _check(server_time.tzinfo is not None, "server_time must carry its offset")
        raw = data["endpoints"]
        _check(isinstance(raw, list) and len(raw) <= MAX_ENDPOINTS, "endpoints")
        endpoints = []
        for item in raw:
            _check(isinstance(item, dict) and set(item) == {"kind", "host", "port"}, "endpoint")
            kind, host, port = item["kind"], item["host"], item["port"]
            _check(isinstance(kind, str) and _KIND.fullmatch(kind) is not None, "kind")
            _check(isinstance(host, str) and _HOST.fullmatch(host) is not None, "host")
            _check(
                isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536, "port"
            )
            endpoints.append(Endpoint(kind, host, port))
        return cls(_id(data["id"]), server_time, tuple(endpoints))

    def context(
        self,
        *,
        received_at: float | None = None,
        tls: ssl.SSLContext | None = None,
        download_folder: Path | None = None,
    ) -> ProbeContext:
        """The probes' context; ``received_at`` is ``time.monotonic()`` on arrival."""
        return ProbeContext(
            server_time=self.server_time,
            server_time_received=time.monotonic() if received_at is None else received_at,
            endpoints=self.endpoints,
            tls=tls,
            download_folder=download_folder,
        )


@dataclass(frozen=True)
class DiagnosticsReportMessage:
    TYPE: ClassVar[str] = "diagnostics_report"
    id: str
    report: DiagnosticsReport

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id, "report": self.report.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DiagnosticsReportMessage:
        _check(set(data) == {"type", "id", "report"}, "report fields")
        try:
            report = DiagnosticsReport.from_json(data["report"])
        except InvalidReport as exc:
            raise InvalidDiagnosticsMessage(str(exc)) from None
        return cls(_id(data["id"]), report)


@dataclass(frozen=True)
class DiagnosticsWithheld:
    TYPE: ClassVar[str] = "diagnostics_withheld"
    id: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DiagnosticsWithheld:
        _check(set(data) == {"type", "id"}, "withheld fields")
        return cls(_id(data["id"]))


DiagnosticsMessage = DiagnosticsRequest | DiagnosticsReportMessage | DiagnosticsWithheld
_TYPES: dict[str, type[DiagnosticsMessage]] = {
    kind.TYPE: kind for kind in (DiagnosticsRequest, DiagnosticsReportMessage, DiagnosticsWithheld)
}


def is_diagnostics_message(message: Mapping[str, Any]) -> bool:
    return message.get("type") in _TYPES


def parse_diagnostics_message(message: Mapping[str, Any]) -> DiagnosticsMessage:
    kind = _TYPES.get(str(message.get("type")))
    if kind is None:
        raise InvalidDiagnosticsMessage(f"not a diagnostics message: {message.get('type')!r}")
    return kind.from_json(message)
