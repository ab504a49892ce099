"""The diagnostics report: data, the text the customer reads before sending, and JSON.

The customer sees :meth:`DiagnosticsReport.render_text` before anything leaves the
machine and may withhold the whole report or single sections
(:meth:`DiagnosticsReport.without`). The server receives the JSON from the applet and
must not trust it: :meth:`DiagnosticsReport.from_json` checks shape and bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from supportdesk.diagnostics.probe import (
    Finding,
    JSONValue,
    Label,
    Probe,
    ProbeContext,
    ProbeStatus,
)
from supportdesk.diagnostics.runner import ProbeOutcome, run_probes

REPORT_VERSION = 1
MAX_ENTRIES = 32
MAX_STRING = 1000
MAX_ITEMS = 64
MAX_DEPTH = 5

STATUS_TEXT = {
    ProbeStatus.OK: Label("ok", "ok"),
    ProbeStatus.FAILED: Label("Fehler", "failed"),
    ProbeStatus.UNAVAILABLE: Label("nicht verfügbar", "unavailable"),
}
HEADER = Label(
    "Diagnoseinformationen für Ihre Bank",
    "Diagnostic information for your bank",
)
NOTICE = Label(
    "Bitte prüfen Sie den Bericht. Er wird erst gesendet, wenn Sie zustimmen; "
    "Sie können ihn ganz oder teilweise zurückhalten. "
    "Er enthält keine Benutzer- oder Rechnernamen und keine Passwörter.",
    "Please check the report. It is sent only if you agree; you may withhold all or "
    "part of it. It contains no user or computer names and no passwords.",
)


class InvalidReport(ValueError):
    """A report from the link that breaks the schema or its bounds."""


@dataclass(frozen=True)
class ReportEntry:
    name: str
    label: Label
    status: ProbeStatus
    data: Mapping[str, JSONValue] = field(default_factory=dict)
    reason: Label | None = None
    findings: tuple[Finding, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class DiagnosticsReport:
    created_at: datetime
    entries: tuple[ReportEntry, ...]

    @classmethod
    def from_outcomes(
        cls, outcomes: Iterable[ProbeOutcome], created_at: datetime
    ) -> DiagnosticsReport:
        return cls(
            created_at,
            tuple(
                ReportEntry(
                    o.name,
                    o.label,
                    o.result.status,
                    o.result.data,
                    o.result.reason,
                    o.result.findings,
                    round(o.seconds, 3),
                )
                for o in outcomes
            ),
        )

    @property
    def findings(self) -> list[tuple[str, Finding]]:
        """Every finding with the name of its section, in report order."""
        return [(e.name, f) for e in self.entries for f in e.findings]

    def without(self, names: Iterable[str]) -> DiagnosticsReport:
        """The report minus the sections the customer chose to withhold."""
        withheld = set(names)
        return DiagnosticsReport(
            self.created_at, tuple(e for e in self.entries if e.name not in withheld)
        )

    # -- JSON for the link ----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "entries": [
                {
                    "name": e.name,
                    "label": _label_json(e.label),
                    "status": e.status.value,
                    "data": dict(e.data),
                    "reason": None if e.reason is None else _label_json(e.reason),
                    "findings": [
                        {"code": f.code, "message": _label_json(f.message)} for f in e.findings
                    ],
                    "seconds": e.seconds,
                }
                for e in self.entries
            ],
        }

    @classmethod
    def from_json(cls, data: object) -> DiagnosticsReport:
        """Parse a report from the applet; :class:`InvalidReport` if it breaks the
        schema or a bound."""
        body = _object(data, {"version", "created_at", "entries"})
        if body["version"] != REPORT_VERSION:
            raise InvalidReport(f"unknown report version {body['version']!r}")
        try:
            created_at = datetime.fromisoformat(_string(body["created_at"]))
        except ValueError:
            raise InvalidReport("created_at is not an ISO time") from None
        if created_at.tzinfo is None:
            raise InvalidReport("created_at must carry its offset")
        entries = body["entries"]
        if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
            raise InvalidReport(f"entries must be a list of at most {MAX_ENTRIES}")
        return cls(created_at, tuple(_entry(e) for e in entries))

    # -- the text the customer reads ------------------------------------------------------

    def render_text(self, language: str = "de", *, for_customer: bool = True) -> str:
        """The report as text; the agent's copy (``for_customer=False``) leaves out the
        notice that asks the customer to check it."""
        lines = [HEADER.text(language), "=" * len(HEADER.text(language)), ""]
        if for_customer:
            lines += [NOTICE.text(language), ""]
        stamp = self.created_at.astimezone(UTC).strftime("%d.%m.%Y %H:%M:%S UTC")
        lines += [("Erstellt: " if language == "de" else "Created: ") + stamp, ""]
        for entry in self.entries:
            status = STATUS_TEXT[entry.status].text(language)
            head = f"{entry.label.text(language)}: {status}"
            if entry.reason is not None:
                head += f" - {entry.reason.text(language)}"
            lines.append(head)
            lines += [f"  ! {f.message.text(language)}" for f in entry.findings]
            lines += _render_value(entry.data, "  ", language)
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def collect_report(
    context: ProbeContext,
    probes: Sequence[Probe] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DiagnosticsReport:
    """Run the probes (default: all) and gather their outcomes into a report."""
    if probes is None:
        from supportdesk.diagnostics.probes import ALL_PROBES

        probes = ALL_PROBES
    return DiagnosticsReport.from_outcomes(run_probes(probes, context), now())


# -- rendering helpers ------------------------------------------------------------------------


def _render_value(value: object, indent: str, language: str, key: str = "") -> list[str]:
    if isinstance(value, Mapping):
        lines = []
        for name, item in value.items():
            if isinstance(item, Mapping | list):
                lines.append(f"{indent}{name}:")
                lines += _render_value(item, indent + "  ", language, str(name))
            else:
                lines.append(f"{indent}{name}: {_scalar(item, str(name), language)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [f"{indent}-"]
        lines = []
        for item in value:
            if isinstance(item, Mapping):
                inner = _render_value(item, indent + "  ", language)
                lines.append(f"{indent}- {inner[0].strip()}" if inner else f"{indent}-")
                lines += inner[1:]
            else:
                lines.append(f"{indent}- {_scalar(item, key, language)}")
        return lines
    return [f"{indent}{_scalar(value, key, language)}"]


def _scalar(value: object, key: str, language: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return ("ja" if value else "nein") if language == "de" else ("yes" if value else "no")
    if isinstance(value, int) and key.endswith("_bytes"):
        return _size(value, language)
    return str(value)


def _size(count: int, language: str) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            text = f"{size:.1f}" if unit != "B" else str(count)
            return (text.replace(".", ",") if language == "de" else text) + f" {unit}"
        size /= 1024
    raise AssertionError("unreachable")


# -- parsing helpers ------------------------------------------------------------------------


def _label_json(label: Label) -> dict[str, str]:
    return {"de": label.de, "en": label.en}


def _object(value: object, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        raise InvalidReport(f"expected an object with exactly {sorted(keys)}")
    return value


def _string(value: object, limit: int = MAX_STRING) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidReport(f"expected a string of at most {limit} characters")
    return value


def _label(value: object) -> Label:
    body = _object(value, {"de", "en"})
    return Label(_string(body["de"]), _string(body["en"]))


def _entry(value: object) -> ReportEntry:
    body = _object(value, {"name", "label", "status", "data", "reason", "findings", "seconds"})
    try:
        status = ProbeStatus(body["status"])
    except ValueError:
        raise InvalidReport(f"unknown status {body['status']!r}") from None
    findings = body["findings"]
    if not isinstance(findings, list) or len(findings) > MAX_ITEMS:
        raise InvalidReport("findings must be a short list")
    seconds = body["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise InvalidReport("seconds must be a non-negative number")
    data = _json_value(body["data"], 0)
    if not isinstance(data, dict):
        raise InvalidReport("data must be an object")
    return ReportEntry(
        name=_string(body["name"], 64),
        label=_label(body["label"]),
        status=status,
        data=data,
        reason=None if body["reason"] is None else _label(body["reason"]),
        findings=tuple(
            Finding(_string(f["code"], 64), _label(f["message"]))
            for f in (_object(item, {"code", "message"}) for item in findings)
        ),
        seconds=float(seconds),
    )


def _json_value(value: object, depth: int) -> JSONValue:
    if depth > MAX_DEPTH:
        raise InvalidReport("data nested too deeply")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise InvalidReport("list too long")
        return [_json_value(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise InvalidReport("object too large")
        return {_string(k, 100): _json_value(v, depth + 1) for k, v in value.items()}
    raise InvalidReport(f"not a JSON value: {type(value).__name__}")
