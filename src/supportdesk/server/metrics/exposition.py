"""Prometheus's text exposition format (version 0.0.4): counters, gauges and histograms
kept in memory and written out as text, with no I/O.

The format is small enough to write here rather than add a dependency: per family a
``# HELP`` and a ``# TYPE`` line, then one ``name{label="value",...} number`` line per
sample; a histogram adds cumulative ``_bucket`` lines (``le``), ``_sum`` and ``_count``.
Everything runs on the server's event loop, so the counters need no lock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# Seconds: from a page served from memory (a few ms) to a slow login (Argon2id, seconds).
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Kind = Literal["counter", "gauge", "histogram"]
Labels = tuple[tuple[str, str], ...]


class MetricError(ValueError):
    """A metric defined or used against the format's rules (our mistake, not a peer's)."""


@dataclass(frozen=True)
class Sample:
    """One line of the exposition: the sample's name, its labels, its value."""

    name: str
    labels: Labels
    value: float


def format_value(value: float) -> str:
    """A number as the format writes it: integers without a point, ``+Inf``, ``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def escape_label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def sample_line(sample: Sample) -> str:
    if not sample.labels:
        return f"{sample.name} {format_value(sample.value)}"
    labels = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in sample.labels)
    return f"{sample.name}{{{labels}}} {format_value(sample.value)}"


class CounterValue:
    """One counter of a family (one combination of label values)."""

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise MetricError("a counter only goes up")
        self.value += amount


class GaugeValue:
    """One gauge of a family: a value that goes up and down."""

    def __init__(self) -> None:
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = float(value)

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount


class HistogramValue:
    """One histogram of a family: how many observations fell at or below each bound."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)  # per bucket, not cumulative; the last is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        for index, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[index] += 1
                break
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)


V = TypeVar("V", CounterValue, GaugeValue, HistogramValue)


class Family(Generic[V]):
    """A metric family: a name, a help text, label names, and a value per label set.

    A family without labels has its one value from the start (so it is written as 0
    before anything happened); one with labels has a value per combination used.
    """

    kind: Kind

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        if not METRIC_NAME.match(name):
            raise MetricError(f"{name!r} is not a metric name")
        for label in labelnames:
            if not LABEL_NAME.match(label) or label.startswith("__"):
                raise MetricError(f"{label!r} is not a label name")
        if len(set(labelnames)) != len(labelnames):
            raise MetricError(f"{name}: a label name appears twice")
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self.values: dict[tuple[str, ...], V] = {}
        if not self.labelnames:
            self.values[()] = self._new_value()

    def _new_value(self) -> V:
        raise NotImplementedError

    def labels(self, **values: str) -> V:
        """The value for these label values (created at first use)."""
        if set(values) != set(self.labelnames):
            raise MetricError(f"{self.name} takes the labels {list(self.labelnames)}")
        key = tuple(str(values[name]) for name in self.labelnames)
        found = self.values.get(key)
        if found is None:
            found = self.values[key] = self._new_value()
        return found

    def _only(self) -> V:
        if self.labelnames:
            raise MetricError(f"{self.name} has labels: use .labels(...)")
        return self.values[()]

    def samples(self) -> Iterator[Sample]:
        for key, value in sorted(self.values.items()):
            yield from self._samples(tuple(zip(self.labelnames, key, strict=True)), value)

    def _samples(self, labels: Labels, value: V) -> Iterator[Sample]:
        raise NotImplementedError


class Counter(Family[CounterValue]):
    """Counts up only. Its name ends in ``_total``, as the format's conventions ask."""

    kind: Kind = "counter"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        if not name.endswith("_total"):
            raise MetricError(f"a counter's name ends in _total: {name!r}")
        super().__init__(name, help, labelnames)

    def _new_value(self) -> CounterValue:
        return CounterValue()

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)

    @property
    def value(self) -> float:
        return self._only().value

    def _samples(self, labels: Labels, value: CounterValue) -> Iterator[Sample]:
        yield Sample(self.name, labels, value.value)


class Gauge(Family[GaugeValue]):
    kind: Kind = "gauge"

    def _new_value(self) -> GaugeValue:
        return GaugeValue()

    def set(self, value: float) -> None:
        self._only().set(value)

    @property
    def value(self) -> float:
        return self._only().value

    def _samples(self, labels: Labels, value: GaugeValue) -> Iterator[Sample]:
        yield Sample(self.name, labels, value.value)


class Histogram(Family[HistogramValue]):
    kind: Kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        bounds = tuple(float(b) for b in buckets)
        if not bounds or list(bounds) != sorted(set(bounds)):
            raise MetricError(f"{name}: buckets must be given in increasing order")
        if "le" in labelnames:
            raise MetricError(f"{name}: 'le' is the histogram's own label")
        self.bounds = bounds if math.isinf(bounds[-1]) else (*bounds, math.inf)
        super().__init__(name, help, labelnames)

    def _new_value(self) -> HistogramValue:
        return HistogramValue(self.bounds)

    def observe(self, value: float) -> None:
        self._only().observe(value)

    def _samples(self, labels: Labels, value: HistogramValue) -> Iterator[Sample]:
        running = 0
        for bound, count in zip(self.bounds, value.counts, strict=True):
            running += count
            yield Sample(f"{self.name}_bucket", (*labels, ("le", format_value(bound))), running)
        yield Sample(f"{self.name}_sum", labels, value.sum)
        yield Sample(f"{self.name}_count", labels, running)


AnyFamily = Counter | Gauge | Histogram
V_F = TypeVar("V_F", Counter, Gauge, Histogram)
Collector = Callable[[], Iterable[AnyFamily]]
"""Families made afresh at every scrape, from state that lives elsewhere."""


class Registry:
    """The families one server exposes, and ``render()`` to write them out.

    ``const_labels`` go on every sample (this node's name); a collector's families
    are built at each scrape (live sessions, connected viewers).
    """

    def __init__(self, const_labels: Mapping[str, str] | None = None) -> None:
        const = dict(const_labels or {})
        for label in const:
            if not LABEL_NAME.match(label):
                raise MetricError(f"{label!r} is not a label name")
        self.const_labels: Labels = tuple(const.items())
        self._families: dict[str, AnyFamily] = {}
        self._collectors: list[Collector] = []

    def register(self, family: V_F) -> V_F:
        if family.name in self._families:
            raise MetricError(f"{family.name} is registered already")
        self._families[family.name] = family
        return family

    def add_collector(self, collector: Collector) -> None:
        self._collectors.append(collector)

    def families(self) -> list[AnyFamily]:
        found = list(self._families.values())
        for collector in self._collectors:
            found.extend(collector())
        return found

    def render(self) -> str:
        lines: list[str] = []
        seen: set[str] = set()
        for family in self.families():
            if family.name in seen:
                raise MetricError(f"{family.name} is exposed twice")
            seen.add(family.name)
            lines.append(f"# HELP {family.name} {escape_help(family.help)}")
            lines.append(f"# TYPE {family.name} {family.kind}")
            for sample in family.samples():
                labels = (*self.const_labels, *sample.labels)
                lines.append(sample_line(Sample(sample.name, labels, sample.value)))
        return "\n".join(lines) + "\n"
