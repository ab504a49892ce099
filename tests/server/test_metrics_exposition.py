"""The Prometheus text format as server/metrics/exposition.py writes it: exact lines for
each kind of metric, escaping, and the mistakes it refuses."""

from __future__ import annotations

import math
import re

import pytest

from supportdesk.server.metrics.exposition import (
    CONTENT_TYPE,
    Counter,
    Gauge,
    Histogram,
    MetricError,
    Registry,
    format_value,
)

# One sample line of the 0.0.4 format: name, optional {label="value",...}, a number.
SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*",?)*\})?'
    r" (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$"
)


def test_a_counter_gauge_and_histogram_are_written_line_for_line() -> None:
    registry = Registry({"node": "a"})
    issued = registry.register(Counter("demo_issued_total", "Keys issued."))
    ended = registry.register(Counter("demo_ended_total", "Sessions ended.", ["reason"]))
    live = registry.register(Gauge("demo_live", "Live sessions."))
    latency = registry.register(Histogram("demo_seconds", "Latency.", buckets=(0.1, 1.0)))
    issued.inc()
    issued.inc(2)
    ended.labels(reason="customer").inc()
    ended.labels(reason="agent").inc(3)
    live.set(2)
    for value in (0.05, 0.1, 0.5, 7.0):
        latency.observe(value)

    assert registry.render() == (
        "# HELP demo_issued_total Keys issued.\n"
        "# TYPE demo_issued_total counter\n"
        'demo_issued_total{node="a"} 3\n'
        "# HELP demo_ended_total Sessions ended.\n"
        "# TYPE demo_ended_total counter\n"
        'demo_ended_total{node="a",reason="agent"} 3\n'
        'demo_ended_total{node="a",reason="customer"} 1\n'
        "# HELP demo_live Live sessions.\n"
        "# TYPE demo_live gauge\n"
        'demo_live{node="a"} 2\n'
        "# HELP demo_seconds Latency.\n"
        "# TYPE demo_seconds histogram\n"
        'demo_seconds_bucket{node="a",le="0.1"} 2\n'
        'demo_seconds_bucket{node="a",le="1"} 3\n'
        'demo_seconds_bucket{node="a",le="+Inf"} 4\n'
        'demo_seconds_sum{node="a"} 7.65\n'
        'demo_seconds_count{node="a"} 4\n'
    )
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_label_values_and_help_are_escaped_and_every_line_parses() -> None:
    registry = Registry()
    help_text = 'Help with \\ and\na newline "quoted".'
    odd = registry.register(Counter("demo_odd_total", help_text, ["x"]))
    odd.labels(x='back\\slash "quote"\nnewline').inc()
    text = registry.render()
    assert '# HELP demo_odd_total Help with \\\\ and\\na newline "quoted".\n' in text
    assert 'demo_odd_total{x="back\\\\slash \\"quote\\"\\nnewline"} 1\n' in text
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line


def test_collectors_are_read_at_every_render() -> None:
    registry = Registry()
    state = {"n": 1}

    def collect() -> list[Gauge]:
        gauge = Gauge("demo_now", "Read at render.")
        gauge.set(state["n"])
        return [gauge]

    registry.add_collector(collect)
    assert "demo_now 1\n" in registry.render()
    state["n"] = 5
    assert "demo_now 5\n" in registry.render()


def test_numbers_are_written_as_the_format_spells_them() -> None:
    assert format_value(3.0) == "3"
    assert format_value(0.25) == "0.25"
    assert format_value(math.inf) == "+Inf"
    assert format_value(-math.inf) == "-Inf"
    assert format_value(math.nan) == "NaN"
    assert format_value(1e20) == "1e+20"


def test_a_labelled_family_starts_empty_and_a_plain_one_at_zero() -> None:
    registry = Registry()
    registry.register(Counter("demo_a_total", "A.", ["k"]))
    registry.register(Counter("demo_b_total", "B."))
    text = registry.render()
    assert "demo_a_total{" not in text
    assert "demo_b_total 0\n" in text


@pytest.mark.parametrize(
    "make",
    [
        lambda: Counter("demo_count", "a counter not ending in _total"),
        lambda: Counter("9demo_total", "a name starting with a digit"),
        lambda: Counter("demo_total", "a bad label", ["bad-label"]),
        lambda: Counter("demo_total", "a reserved label", ["__name"]),
        lambda: Counter("demo_total", "a label twice", ["a", "a"]),
        lambda: Histogram("demo_seconds", "buckets out of order", buckets=(1.0, 0.5)),
        lambda: Histogram("demo_seconds", "le is the histogram's", ["le"]),
    ],
)
def test_a_family_against_the_rules_is_refused(make: object) -> None:
    with pytest.raises(MetricError):
        make()  # type: ignore[operator]


def test_misuse_is_refused() -> None:
    registry = Registry()
    counter = registry.register(Counter("demo_total", "Demo.", ["reason"]))
    with pytest.raises(MetricError):
        registry.register(Counter("demo_total", "Again."))
    with pytest.raises(MetricError):
        counter.labels(other="x")
    with pytest.raises(MetricError):
        counter.inc()  # it has labels
    with pytest.raises(MetricError):
        counter.labels(reason="x").inc(-1)
    gauge = Gauge("demo_level", "Up and down.")
    gauge.set(3)
    gauge.labels().dec(5)
    assert gauge.value == -2
