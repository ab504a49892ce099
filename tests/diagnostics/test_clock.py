"""Clock offset against the server with injected clocks: >30 s is a finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.diagnostics.probe import ProbeContext, ProbeStatus
from supportdesk.diagnostics.probes.clock import MAX_OFFSET_SECONDS, ClockProbe, clock_offset

SERVER = datetime(2026, 11, 3, 9, 0, 0, tzinfo=UTC)


def context(local: datetime, waited: float = 0.0) -> ProbeContext:
    return ProbeContext(
        server_time=SERVER,
        server_time_received=100.0,
        now=lambda: local,
        monotonic=lambda: 100.0 + waited,
    )


@pytest.mark.parametrize(
    ("local_shift", "waited", "expected"),
    [
        (0.0, 0.0, 0.0),
        (45.0, 0.0, 45.0),
        (-90.0, 0.0, -90.0),
        (12.0, 2.0, 10.0),  # two seconds passed since the server's time arrived
        (0.0, 5.0, -5.0),
    ],
)
def test_offset_is_local_minus_server(local_shift: float, waited: float, expected: float) -> None:
    local = SERVER + timedelta(seconds=local_shift)
    assert clock_offset(context(local, waited), local) == pytest.approx(expected)


def test_small_offset_is_fine() -> None:
    result = ClockProbe().run(context(SERVER + timedelta(seconds=MAX_OFFSET_SECONDS)))
    assert result.status is ProbeStatus.OK
    assert result.data["offset_seconds"] == MAX_OFFSET_SECONDS
    assert result.findings == ()


def test_clock_ahead_by_45_seconds_is_a_finding() -> None:
    result = ClockProbe().run(context(SERVER + timedelta(seconds=45)))
    assert result.data["offset_seconds"] == 45.0
    (finding,) = result.findings
    assert finding.code == "clock_off"
    assert "45 s vor" in finding.message.de
    assert "TAN" in finding.message.de and "HBCI" in finding.message.de


def test_clock_behind_is_a_finding_too() -> None:
    result = ClockProbe().run(context(SERVER - timedelta(minutes=5)))
    (finding,) = result.findings
    assert "300 s nach" in finding.message.de
    assert "behind" in finding.message.en


def test_without_server_time_only_the_zone_is_reported() -> None:
    result = ClockProbe().run(ProbeContext())
    assert result.status is ProbeStatus.OK
    assert result.data["offset_seconds"] is None
    assert result.data["time_zone"]
    assert isinstance(result.data["utc_offset_minutes"], int)
