"""Running probes at once, each in its own thread under its own timeout.

A probe that raises is reported as failed with the exception; one that hangs is
reported as failed "timed out" when its timeout is up, while the others finish. The
threads are daemons: a probe stuck in a system call cannot be killed from Python,
but it must neither hold up the report nor keep the applet from exiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from supportdesk.diagnostics.probe import Label, Probe, ProbeContext, ProbeResult


@dataclass(frozen=True)
class ProbeOutcome:
    name: str
    label: Label
    result: ProbeResult
    seconds: float
    timed_out: bool = False


class _Slot:
    def __init__(self) -> None:
        self.result: ProbeResult | None = None
        self.finished_at: float | None = None


def run_probes(
    probes: Sequence[Probe],
    context: ProbeContext,
    *,
    timeout_scale: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> list[ProbeOutcome]:
    """Run ``probes`` concurrently; one outcome per probe, in the order given.

    Returns no later than the longest probe timeout (times ``timeout_scale``).
    """
    names = [probe.name for probe in probes]
    if len(set(names)) != len(names):
        raise ValueError("probe names must be unique")
    started = clock()
    slots = [_Slot() for _ in probes]
    threads = []
    for probe, slot in zip(probes, slots, strict=True):
        thread = threading.Thread(
            target=_run_one,
            args=(probe, context, slot, clock),
            name=f"probe-{probe.name}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    outcomes = []
    for probe, slot, thread in zip(probes, slots, threads, strict=True):
        limit = probe.timeout * timeout_scale
        thread.join(max(0.0, started + limit - clock()))
        result = slot.result
        if result is None:
            reason = Label(
                f"Zeitüberschreitung: keine Antwort nach {limit:g} s",
                f"timed out: no answer after {limit:g} s",
            )
            outcomes.append(
                ProbeOutcome(probe.name, probe.label, ProbeResult.failed(reason), limit, True)
            )
        else:
            finished = slot.finished_at if slot.finished_at is not None else clock()
            outcomes.append(ProbeOutcome(probe.name, probe.label, result, finished - started))
    return outcomes


def _run_one(probe: Probe, context: ProbeContext, slot: _Slot, clock: Callable[[], float]) -> None:
    try:
        result = probe.run(context)
        if not isinstance(result, ProbeResult):
            raise TypeError(f"{probe.name} returned {type(result).__name__}")
    except Exception as exc:  # a broken probe must not break the report
        result = ProbeResult.failed(Label.same(f"{type(exc).__name__}: {exc}"[:300]))
    slot.finished_at = clock()
    slot.result = result
