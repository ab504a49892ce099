"""The player's clock: play, pause and speed map wall time to recording time."""

from __future__ import annotations

import pytest

from supportdesk.recording.playback_clock import PlaybackClock


def test_playing_advances_recording_time_at_the_chosen_speed() -> None:
    clock = PlaybackClock(5_000_000, now=100.0)
    assert clock.position_us(101.5) == 6_500_000
    assert clock.wait_for(7_000_000, now=101.5) == 0.5
    assert clock.wait_for(6_000_000, now=101.5) == 0.0  # overdue: send at once
    clock.set_speed(4, now=101.5)
    assert clock.position_us(102.0) == 8_500_000
    assert clock.wait_for(10_500_000, now=102.0) == 0.5


def test_pausing_holds_the_position_and_waits_for_nothing() -> None:
    clock = PlaybackClock(0, now=0.0, speed=2)
    clock.pause(now=3.0)
    assert clock.position_us(50.0) == 6_000_000
    assert clock.wait_for(7_000_000, now=50.0) is None
    assert clock.wait_for(6_000_000, now=50.0) == 0.0  # what the paused picture needs
    clock.set_speed(8, now=60.0)  # a speed change while paused stays paused
    assert clock.paused and clock.position_us(70.0) == 6_000_000
    clock.play(now=70.0)
    assert clock.position_us(70.5) == 10_000_000


def test_only_the_offered_speeds_are_accepted() -> None:
    with pytest.raises(ValueError, match="1, 2, 4, 8, 16"):
        PlaybackClock(0, 0.0, speed=3)
    clock = PlaybackClock(0, 0.0)
    with pytest.raises(ValueError):
        clock.set_speed(32, 1.0)
    assert clock.speed == 1
