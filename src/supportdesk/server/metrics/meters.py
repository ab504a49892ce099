"""What the relay and the recordings count through: two small interfaces that
prometheus_client's counters and histograms fit, and a stand-in kept in memory for a
relay or recording place that no metrics watch (unit tests, tools)."""

from __future__ import annotations

from typing import Protocol


class Tally(Protocol):
    """Counts up: a prometheus_client ``Counter`` (or one of its labelled children)."""

    def inc(self, amount: float = 1) -> None: ...


class Timing(Protocol):
    """Takes durations: a prometheus_client ``Histogram`` (or a labelled child)."""

    def observe(self, amount: float) -> None: ...


class Kept:
    """A tally and a timing in memory: the sum and how many observations made it."""

    def __init__(self) -> None:
        self.value = 0.0
        self.count = 0

    def inc(self, amount: float = 1) -> None:
        self.value += amount

    def observe(self, amount: float) -> None:
        self.value += amount
        self.count += 1
