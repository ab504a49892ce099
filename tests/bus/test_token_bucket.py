"""The token bucket arithmetic (pure) behind the in-process cluster budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.bus.token_bucket import TokenBucket


def test_burst_then_one_per_second() -> None:
    bucket = TokenBucket(rate=1, burst=3)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(0.5)
    assert bucket.take(1.0)
    assert not bucket.take(1.0)


def test_refill_never_exceeds_burst() -> None:
    bucket = TokenBucket(rate=10, burst=2)
    bucket.take(0.0)
    assert bucket.available(1000.0) == 2


def test_time_going_backwards_grants_nothing() -> None:
    bucket = TokenBucket(rate=1, burst=1)
    assert bucket.take(10.0)
    assert not bucket.take(5.0)
    assert not bucket.take(10.5)
    assert bucket.take(11.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0), (-1, 5)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=rate, burst=burst)


@given(st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), max_size=300))
def test_never_more_than_burst_plus_rate_times_elapsed(times: list[float]) -> None:
    bucket = TokenBucket(rate=2, burst=5)
    times = sorted(times)
    granted = sum(bucket.take(t) for t in times)
    elapsed = (times[-1] - times[0]) if times else 0
    assert granted <= 5 + 2 * elapsed + 1e-9
