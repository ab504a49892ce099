"""Refusals counted per window (domain/refusal_window.py): a flood writes a few
records, every refusal is accounted for, and memory stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.refusal_window import OVERFLOW_ACTOR, RefusalWindows

EVENT = "support_key.redemption_failed"
T0 = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)


def total(records: list[AuditRecord]) -> int:
    return sum(int(r.data.get("count", 1)) for r in records)


def test_a_flood_from_one_client_is_two_records_per_window() -> None:
    windows = RefusalWindows(EVENT, timedelta(minutes=1))
    written: list[AuditRecord] = []
    for n in range(600):
        written += windows.refused("client:abc", "throttled", T0 + timedelta(milliseconds=50 * n))
    # 600 x 50 ms = 30 s: all in the window 09:00..09:01. The first is written at once.
    assert [r.data for r in written] == [{"reason": "throttled"}]
    assert written[0].actor == "client:abc" and written[0].event_type == EVENT
    # Nothing more until the window is over; then one record with the count.
    assert windows.due(T0 + timedelta(seconds=40)) == []
    later = windows.due(datetime(2026, 11, 30, 9, 1, tzinfo=UTC))
    assert len(later) == 1
    assert later[0].data == {
        "reason": "throttled",
        "count": 599,
        "from": "2026-11-30T09:00:00.000000Z",
        "until": "2026-11-30T09:01:00.000000Z",
    }
    assert total(written + later) == 600
    assert windows.open_tallies == 0


def test_the_next_refusal_after_the_window_writes_the_count() -> None:
    windows = RefusalWindows(EVENT, timedelta(minutes=1))
    records: list[AuditRecord] = []
    for minute in range(3):
        for second in range(0, 60, 2):
            at = T0.replace(second=0) + timedelta(minutes=minute, seconds=second)
            records += windows.refused("client:abc", "throttled", at)
    records += windows.flush(T0 + timedelta(minutes=5))
    assert len(records) == 6  # first + count, per window
    assert total(records) == 90


def test_reasons_and_clients_are_counted_apart() -> None:
    windows = RefusalWindows(EVENT)
    records = []
    for actor in ("client:a", "client:b"):
        for reason in ("throttled", "rate_limited"):
            for _ in range(3):
                records += windows.refused(actor, reason, T0)
    assert len(records) == 4  # each pair's first
    records += windows.flush(T0)
    assert len(records) == 8 and total(records) == 12
    assert {(r.actor, r.data["reason"]) for r in records} == {
        (a, r) for a in ("client:a", "client:b") for r in ("throttled", "rate_limited")
    }


def test_changing_addresses_does_not_grow_the_trail_beyond_the_limit() -> None:
    windows = RefusalWindows(EVENT, timedelta(minutes=1), max_actors=10)
    records: list[AuditRecord] = []
    for n in range(600):
        records += windows.refused(f"client:{n}", "rate_limited", T0)
    assert len(records) == 10
    assert windows.open_tallies == 11  # ten clients and the rest together
    records += windows.flush(T0)
    assert len(records) == 11
    overflow = records[-1]
    assert overflow.actor == OVERFLOW_ACTOR and overflow.data["count"] == 590
    assert total(records) == 600


def test_times_must_be_utc_and_limits_sensible() -> None:
    with pytest.raises(ValueError):
        RefusalWindows(EVENT, timedelta(0))
    with pytest.raises(ValueError):
        RefusalWindows(EVENT, max_actors=0)
    with pytest.raises(ValueError):
        RefusalWindows(EVENT).refused("client:a", "throttled", datetime(2026, 1, 1))


def test_any_refusal_after_a_window_writes_every_count_of_it() -> None:
    windows = RefusalWindows(EVENT, timedelta(minutes=1), max_actors=1)
    first = [r for _ in range(3) for r in windows.refused("client:a", "throttled", T0)]
    first += [r for _ in range(2) for r in windows.refused("client:b", "throttled", T0)]
    assert [(r.actor, r.data.get("count")) for r in first] == [("client:a", None)]
    later = windows.refused("client:b", "throttled", T0 + timedelta(minutes=1))
    # a's count and the overflow's from the first window, then b's own first entry:
    # the limit counts per window.
    assert [(r.actor, r.data.get("count")) for r in later] == [
        ("client:a", 2),
        (OVERFLOW_ACTOR, 2),
        ("client:b", None),
    ]
    assert windows.open_tallies == 1
