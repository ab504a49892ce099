"""The recording budget's arithmetic, on a fake clock: the token bucket's rate, burst
and debt, and the quota that admits while there is room."""

from __future__ import annotations

import pytest

from supportdesk.recording.budget import BudgetLimits, RecordingBudget, TokenBucket


def test_a_full_bucket_takes_its_burst_without_waiting_then_asks_for_the_debt() -> None:
    bucket = TokenBucket(rate=100, burst=1000, now=0.0)
    assert bucket.take(1000, 0.0) == 0.0
    assert bucket.take(250, 0.0) == pytest.approx(2.5)  # 250 bytes of debt at 100/s
    assert bucket.wait(1.0) == pytest.approx(1.5)
    assert bucket.wait(2.5) == 0.0
    assert bucket.tokens(2.5) == pytest.approx(0.0)


def test_the_bucket_refills_at_its_rate_and_saves_no_more_than_the_burst() -> None:
    bucket = TokenBucket(rate=100, burst=1000, now=0.0)
    bucket.take(1000, 0.0)
    assert bucket.tokens(3.0) == pytest.approx(300)
    assert bucket.tokens(3600.0) == 1000


def test_a_sustained_sender_is_held_to_the_rate() -> None:
    # 10 s of sending as fast as allowed: waiting as told, it sends burst + rate * time.
    bucket, now, sent = TokenBucket(rate=100, burst=1000, now=0.0), 0.0, 0
    while now < 10.0:
        sent += 50
        now += bucket.take(50, now)
    assert sent == pytest.approx(1000 + 100 * now, abs=50)


def test_a_clock_stepping_back_adds_nothing() -> None:
    bucket = TokenBucket(rate=100, burst=1000, now=10.0)
    bucket.take(1000, 10.0)
    assert bucket.tokens(5.0) == 0.0
    assert bucket.tokens(11.0) == pytest.approx(100)


def test_the_quota_admits_while_there_is_room_and_counts_everything() -> None:
    budget = RecordingBudget(BudgetLimits(quota_bytes=1000, rate_bytes=10**9, burst_bytes=10**9), 0)
    budget.charge(600, 0.0)
    assert not budget.exhausted
    budget.charge(600, 0.0)  # admitted with room left, counted at its size
    assert budget.exhausted and budget.used == 1200


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        BudgetLimits(quota_bytes=0)
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, now=0)
