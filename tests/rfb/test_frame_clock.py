"""The frame clock: at most one frame per interval, the first after a quiet spell at once."""

from __future__ import annotations

import itertools

import pytest

from supportdesk.rfb.frame_clock import DEFAULT_FRAME_RATE, FrameClock


def test_default_is_tigervncs_frame_rate() -> None:
    assert DEFAULT_FRAME_RATE == 60
    assert FrameClock().interval == pytest.approx(1 / 60)


def test_first_frame_is_taken_at_once() -> None:
    assert FrameClock(50).wait(123.0) == 0.0


def test_a_frame_right_after_one_waits_for_the_rest_of_the_interval() -> None:
    clock = FrameClock(50)  # 20 ms
    clock.taken(10.0)
    assert clock.wait(10.0) == pytest.approx(0.020)
    assert clock.wait(10.005) == pytest.approx(0.015)
    assert clock.wait(10.020) == 0.0


def test_after_a_quiet_spell_the_next_frame_is_not_held() -> None:
    clock = FrameClock(60)
    clock.taken(1.0)
    assert clock.wait(5.0) == 0.0
    clock.taken(5.0)  # the interval counts from this frame, not from a fixed beat
    assert clock.wait(5.01) == pytest.approx(1 / 60 - 0.01)


def test_a_busy_screen_gets_one_frame_per_interval() -> None:
    clock = FrameClock(60)
    now, taken = 0.0, []
    while now < 1.0:
        now += 0.004  # damage arrives every 4 ms; a frame is taken when the clock allows
        if clock.wait(now) == 0:
            clock.taken(now)
            taken.append(now)
    gaps = [b - a for a, b in itertools.pairwise(taken)]
    assert min(gaps) >= 1 / 60 - 1e-9
    assert 45 <= len(taken) <= 60


def test_frame_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        FrameClock(0)
    with pytest.raises(ValueError):
        FrameClock(-5)


def test_after_a_large_frame_the_large_frame_rate_holds() -> None:
    clock = FrameClock(60, large_frame_rate=30, large_area=1000)
    clock.taken(1.0, area=1000)  # a moving picture: the next frame waits 1/30 s
    assert clock.wait(1.0) == pytest.approx(1 / 30)
    clock.taken(2.0, area=999)  # a clock's digits: 1/60 s
    assert clock.wait(2.0) == pytest.approx(1 / 60)


def test_without_a_large_frame_rate_every_frame_waits_the_same() -> None:
    clock = FrameClock(60)
    clock.taken(1.0, area=10**7)
    assert clock.wait(1.0) == pytest.approx(1 / 60)


def test_large_frame_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        FrameClock(60, large_frame_rate=0)


def test_a_large_frame_never_shortens_a_lower_frame_rate() -> None:
    clock = FrameClock(10, large_frame_rate=20)
    clock.taken(1.0, area=10**7)
    assert clock.wait(1.0) == pytest.approx(0.1)


def test_one_small_frame_may_go_halfway_between_two_large_ones() -> None:
    clock = FrameClock(60, large_frame_rate=20, large_area=1000)
    clock.taken(1.0, area=5000)  # a moving picture
    assert clock.wait(1.0) == pytest.approx(1 / 20)
    assert clock.wait(1.0, large=False) == pytest.approx(1 / 40)
    clock.taken(1.03, area=200)  # the clock's digits, taken alone in between
    assert clock.wait(1.03) == pytest.approx(0.02)  # the picture still waits its turn
    assert clock.wait(1.03, large=False) == pytest.approx(0.02)  # and the next digits with it


def test_without_large_frames_small_ones_keep_the_frame_rate() -> None:
    clock = FrameClock(60, large_frame_rate=20, large_area=1000)
    clock.taken(1.0, area=5000)
    clock.taken(1.1, area=10)  # after the large frame's interval: typing alone
    assert clock.wait(1.1) == pytest.approx(1 / 60)
    assert clock.wait(1.1, large=False) == pytest.approx(1 / 60)
    clock.taken(1.12, area=10)
    assert clock.wait(1.12, large=False) == pytest.approx(1 / 60)


def test_a_busy_screen_gets_large_frames_at_the_large_rate_and_small_ones_between() -> None:
    clock = FrameClock(60, large_frame_rate=20, large_area=1000)
    now, large, small = 0.0, [], []
    while now < 1.0:
        now += 0.002  # a picture and a clock both change all the time
        if clock.wait(now) == 0:
            clock.taken(now, area=5000)
            large.append(now)
        elif clock.wait(now, large=False) == 0:
            clock.taken(now, area=100)
            small.append(now)
    assert min(b - a for a, b in itertools.pairwise(large)) >= 1 / 20 - 1e-9
    frames = sorted(large + small)
    assert min(b - a for a, b in itertools.pairwise(frames)) >= 1 / 60 - 1e-9
    assert all(any(a < s < b for s in small) for a, b in itertools.pairwise(large))
    assert 18 <= len(large) <= 20
    assert 36 <= len(frames) <= 40
