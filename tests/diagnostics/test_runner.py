"""The runner: probes run at once, each under its own timeout; a hanging or broken
probe says why and the others still report."""

from __future__ import annotations

import threading
import time

import pytest

from supportdesk.diagnostics.probe import Label, ProbeContext, ProbeResult, ProbeStatus
from supportdesk.diagnostics.runner import run_probes

FOREVER = threading.Event()  # never set


class Fake:
    def __init__(self, name: str, timeout: float, action: str, delay: float = 0.0) -> None:
        self.name = name
        self.label = Label(name, name)
        self.timeout = timeout
        self.action = action
        self.delay = delay

    def run(self, context: ProbeContext) -> ProbeResult:
        time.sleep(self.delay)
        if self.action == "hang":
            FOREVER.wait()
        if self.action == "raise":
            raise RuntimeError("registry locked")
        if self.action == "wrong":
            return "not a result"  # type: ignore[return-value]
        return ProbeResult.ok({"probe": self.name})


def test_a_hanging_probe_times_out_while_the_others_finish() -> None:
    started = time.monotonic()
    outcomes = run_probes(
        [Fake("fast", 5, "ok"), Fake("hang", 0.4, "hang"), Fake("slow", 5, "ok", delay=0.2)],
        ProbeContext(),
    )
    elapsed = time.monotonic() - started
    assert 0.35 < elapsed < 1.5
    fast, hang, slow = outcomes
    assert [o.name for o in outcomes] == ["fast", "hang", "slow"]
    assert fast.result.status is ProbeStatus.OK and not fast.timed_out
    assert slow.result.data == {"probe": "slow"}
    assert hang.timed_out and hang.result.status is ProbeStatus.FAILED
    assert hang.result.reason is not None
    assert "Zeitüberschreitung" in hang.result.reason.de
    assert "0.4 s" in hang.result.reason.en


def test_probes_run_concurrently() -> None:
    started = time.monotonic()
    run_probes([Fake(f"p{i}", 5, "ok", delay=0.3) for i in range(6)], ProbeContext())
    assert time.monotonic() - started < 1.2  # not 6 x 0.3 s


def test_a_raising_probe_says_why() -> None:
    (outcome, other) = run_probes([Fake("boom", 5, "raise"), Fake("ok", 5, "ok")], ProbeContext())
    assert outcome.result.status is ProbeStatus.FAILED
    assert outcome.result.reason == Label.same("RuntimeError: registry locked")
    assert other.result.status is ProbeStatus.OK


def test_a_probe_returning_nonsense_fails() -> None:
    (outcome,) = run_probes([Fake("wrong", 5, "wrong")], ProbeContext())
    assert outcome.result.status is ProbeStatus.FAILED


def test_probe_names_must_be_unique() -> None:
    with pytest.raises(ValueError):
        run_probes([Fake("a", 1, "ok"), Fake("a", 1, "ok")], ProbeContext())
