"""The report: JSON both ways (strict on the way in), the text the customer reads,
withholding, and the link messages around it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportdesk.diagnostics.messages import (
    DiagnosticsReportMessage,
    DiagnosticsRequest,
    DiagnosticsWithheld,
    InvalidDiagnosticsMessage,
    is_diagnostics_message,
    parse_diagnostics_message,
)
from supportdesk.diagnostics.probe import Endpoint, Label, ProbeContext, ProbeResult, ProbeStatus
from supportdesk.diagnostics.probes import ALL_PROBES
from supportdesk.diagnostics.probes.clock import ClockProbe
from supportdesk.diagnostics.report import DiagnosticsReport, InvalidReport, collect_report
from supportdesk.diagnostics.runner import ProbeOutcome
from supportdesk.link.frames import MAX_CONTROL_PAYLOAD, encode_control

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def sample() -> DiagnosticsReport:
    clock = ClockProbe().run(ProbeContext(server_time=NOW - timedelta(seconds=45), now=lambda: NOW))
    return DiagnosticsReport.from_outcomes(
        [
            ProbeOutcome("clock", ClockProbe.label, clock, 0.01),
            ProbeOutcome(
                "memory",
                Label("Arbeitsspeicher", "Memory"),
                ProbeResult.ok({"total_bytes": 8 * 1024**3, "available_bytes": None}),
                0.002,
            ),
            ProbeOutcome(
                "smart_card_readers",
                Label("Chipkartenleser (PC/SC)", "Smart-card readers (PC/SC)"),
                ProbeResult.unavailable(Label("der PC/SC-Dienst läuft nicht", "no PC/SC")),
                0.02,
            ),
            ProbeOutcome(
                "browsers",
                Label("Installierte Browser", "Installed browsers"),
                ProbeResult.ok({"browsers": [{"name": "Firefox", "version": "128.3"}]}),
                0.1,
            ),
        ],
        NOW,
    )


def test_json_round_trip() -> None:
    report = sample()
    assert DiagnosticsReport.from_json(copy.deepcopy(report.to_json())) == report


def test_german_text_shows_status_findings_and_data() -> None:
    text = sample().render_text("de")
    assert text.startswith("Diagnoseinformationen für Ihre Bank\n")
    assert "Sie können ihn ganz oder teilweise zurückhalten" in text
    assert "Erstellt: 03.11.2026 09:00:00 UTC" in text
    assert "Uhrzeit und Zeitzone: ok" in text
    assert "  ! Die Uhr geht 45 s vor." in text
    assert "total_bytes: 8,0 GiB" in text
    assert "Chipkartenleser (PC/SC): nicht verfügbar - der PC/SC-Dienst läuft nicht" in text
    assert "- name: Firefox" in text and "version: 128.3" in text


def test_english_text() -> None:
    text = sample().render_text("en")
    assert "Clock and time zone: ok" in text
    assert "The clock is 45 s ahead." in text
    assert "total_bytes: 8.0 GiB" in text
    assert "unavailable - no PC/SC" in text


def test_findings_and_withholding() -> None:
    report = sample()
    assert [(name, f.code) for name, f in report.findings] == [("clock", "clock_off")]
    trimmed = report.without(["browsers", "clock"])
    assert [e.name for e in trimmed.entries] == ["memory", "smart_card_readers"]
    assert "Firefox" not in trimmed.render_text()


def _broken(change: Any) -> dict[str, Any]:
    data = sample().to_json()
    change(data)
    return data


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        _broken(lambda d: d.update(version=2)),
        _broken(lambda d: d.update(created_at="yesterday")),
        _broken(lambda d: d.update(created_at="2026-11-03T09:00:00")),
        _broken(lambda d: d.update(extra=1)),
        _broken(lambda d: d.update(entries={})),
        _broken(lambda d: d.update(entries=d["entries"] * 9)),
        _broken(lambda d: d["entries"][0].update(status="great")),
        _broken(lambda d: d["entries"][0].update(seconds=-1)),
        _broken(lambda d: d["entries"][0].update(seconds=True)),
        _broken(lambda d: d["entries"][0].update(data=[])),
        _broken(lambda d: d["entries"][0].update(data={"x": "y" * 1001})),
        _broken(lambda d: d["entries"][0].update(data={"x": list(range(65))})),
        _broken(lambda d: d["entries"][0].update(data={"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}})),
        _broken(lambda d: d["entries"][0].update(label={"de": "x"})),
        _broken(lambda d: d["entries"][0].update(findings=[{"code": "x"}])),
        _broken(lambda d: d["entries"][0].pop("reason")),
    ],
)
def test_untrusted_reports_are_checked(data: Any) -> None:
    with pytest.raises(InvalidReport):
        DiagnosticsReport.from_json(data)


def test_a_real_report_fits_one_control_message() -> None:
    report = collect_report(ProbeContext(endpoints=(Endpoint("fints", "127.0.0.1", 1),)))
    assert [e.name for e in report.entries] == [p.name for p in ALL_PROBES]
    message = DiagnosticsReportMessage("r1", report)
    assert len(encode_control(message.to_json())) < MAX_CONTROL_PAYLOAD
    assert parse_diagnostics_message(message.to_json()) == message
    assert report.render_text("de")
    statuses = {e.name: e.status for e in report.entries}
    assert statuses["bank_endpoints"] is ProbeStatus.FAILED


def test_request_round_trip_and_context() -> None:
    request = DiagnosticsRequest(
        "r1",
        NOW,
        (
            Endpoint("online_banking", "banking.example.de"),
            Endpoint("fints", "fints.example.de", 3000),
        ),
    )
    wire = request.to_json()
    assert wire == {
        "type": "diagnostics_request",
        "id": "r1",
        "server_time": "2026-11-03T09:00:00+00:00",
        "endpoints": [
            {"kind": "online_banking", "host": "banking.example.de", "port": 443},
            {"kind": "fints", "host": "fints.example.de", "port": 3000},
        ],
    }
    assert is_diagnostics_message(wire)
    assert parse_diagnostics_message(wire) == request
    context = request.context(received_at=5.0)
    assert context.server_time == NOW and context.server_time_received == 5.0
    assert context.endpoints == request.endpoints


def test_withheld_round_trip() -> None:
    wire = DiagnosticsWithheld("r1").to_json()
    assert wire == {"type": "diagnostics_withheld", "id": "r1"}
    assert parse_diagnostics_message(wire) == DiagnosticsWithheld("r1")


@pytest.mark.parametrize(
    "wire",
    [
        {"type": "diagnostics_request", "id": "r1", "server_time": "now", "endpoints": []},
        {
            "type": "diagnostics_request",
            "id": "r1",
            "server_time": "2026-11-03T09:00:00",
            "endpoints": [],
        },
        {
            "type": "diagnostics_request",
            "id": "r1",
            "server_time": "2026-11-03T09:00:00Z",
            "endpoints": [{"kind": "x", "host": "a b", "port": 443}],
        },
        {
            "type": "diagnostics_request",
            "id": "r1",
            "server_time": "2026-11-03T09:00:00Z",
            "endpoints": [{"kind": "x", "host": "a", "port": 70000}],
        },
        {"type": "diagnostics_report", "id": "r1", "report": {}},
        {"type": "diagnostics_withheld", "id": "../x"},
        {"type": "diagnostics_other", "id": "r1"},
    ],
)
def test_bad_messages_are_refused(wire: dict[str, Any]) -> None:
    with pytest.raises(InvalidDiagnosticsMessage):
        parse_diagnostics_message(wire)
