"""Run fuzz targets, alone or in parallel worker processes, and tabulate what happened.

Each worker process runs a slice of one target's inputs (its own mutator seed, so the
slices differ) and reports counts, the exception types that were not clean, the
first such input, the slowest input, and its own peak RSS. A worker that dies counts
as a crash of its target.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from .mutator import Mutator
from .target import InvariantBroken, Target

__all__ = ["Result", "all_targets", "format_table", "run_target", "run_targets"]


def all_targets() -> dict[str, Target]:
    from . import link_targets, recording_targets, rfb_targets

    targets = [*rfb_targets.TARGETS, *link_targets.TARGETS, *recording_targets.TARGETS]
    return {t.name: t for t in targets}


@dataclass
class Result:
    """What one target did with its inputs (summed over workers)."""

    target: str
    inputs: int = 0
    accepted: int = 0
    clean: int = 0
    crashes: int = 0  # broken invariants and dead workers
    unexpected: Counter[str] = field(default_factory=Counter)
    peak_rss_kib: int = 0
    seconds: float = 0.0
    slowest_ms: float = 0.0
    first_failure: bytes | None = None
    first_trace: str = ""

    def merge(self, other: Result) -> None:
        self.inputs += other.inputs
        self.accepted += other.accepted
        self.clean += other.clean
        self.crashes += other.crashes
        self.unexpected.update(other.unexpected)
        self.peak_rss_kib = max(self.peak_rss_kib, other.peak_rss_kib)
        self.seconds = max(self.seconds, other.seconds)
        self.slowest_ms = max(self.slowest_ms, other.slowest_ms)
        if self.first_failure is None and other.first_failure is not None:
            self.first_failure, self.first_trace = other.first_failure, other.first_trace

    @property
    def failures(self) -> int:
        return self.crashes + sum(self.unexpected.values())


def run_target(name: str, inputs: int, seed: int) -> Result:
    """Run ``inputs`` mutated inputs of target ``name`` in this process."""
    target = all_targets()[name]
    mutator = Mutator(target.seeds(), seed, target.max_size)
    result = Result(name)
    started = time.perf_counter()
    for _ in range(inputs):
        data = mutator.next()
        t0 = time.perf_counter()
        try:
            target.run(data)
            result.accepted += 1
        except target.clean:
            result.clean += 1
        except InvariantBroken:
            result.crashes += 1
            _note(result, data)
        except Exception as exc:
            result.unexpected[type(exc).__name__] += 1
            _note(result, data)
        result.slowest_ms = max(result.slowest_ms, (time.perf_counter() - t0) * 1000)
        result.inputs += 1
    result.seconds = time.perf_counter() - started
    result.peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


def _note(result: Result, data: bytes) -> None:
    if result.first_failure is None:
        result.first_failure = data
        result.first_trace = traceback.format_exc(limit=6)


def run_targets(
    names: list[str],
    inputs: int,
    seed: int,
    jobs: int,
    on_slice: Callable[[Result], None] = lambda result: None,
) -> list[Result]:
    """Every target in ``names`` with ``inputs`` inputs each, split over ``jobs`` fresh
    worker processes (one slice per process, so each peak RSS is that slice's own).
    ``on_slice`` hears each slice's result as it completes (progress of long runs)."""
    slices = max(1, jobs)
    per = [inputs // slices + (1 if i < inputs % slices else 0) for i in range(slices)]
    results = {name: Result(name) for name in names}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, max_tasks_per_child=1) as pool:
        futures = {
            pool.submit(run_target, name, count, seed * 1000 + i): name
            for name in names
            for i, count in enumerate(per)
            if count
        }
        for future, name in futures.items():
            try:
                piece = future.result()
                on_slice(piece)
                results[name].merge(piece)
            except Exception as exc:
                results[name].crashes += 1
                results[name].first_trace = results[name].first_trace or repr(exc)
    return [results[name] for name in names]


def format_table(results: list[Result]) -> str:
    """A Markdown table: inputs, accepted, clean rejections, crashes, other exceptions, memory."""
    lines = [
        "| target | inputs | accepted | clean errors | crashes | other exceptions "
        "| peak RSS (MiB) | slowest input (ms) | seconds |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        other = ", ".join(f"{k} x{v}" for k, v in r.unexpected.most_common()) or "0"
        lines.append(
            f"| {r.target} | {r.inputs:,} | {r.accepted:,} | {r.clean:,} | {r.crashes} "
            f"| {other} | {r.peak_rss_kib / 1024:.0f} | {r.slowest_ms:.1f} | {r.seconds:.0f} |"
        )
    return "\n".join(lines)
