"""The relay's seek-point policy for a browser's video channel (pure unit)."""

from __future__ import annotations

from supportdesk.server.recordings.seek_points import SeekPointRule, SeekPoints

RULE = SeekPointRule(max_chunks=300, max_seconds=60.0, retry_seconds=10.0)


def test_a_seek_point_after_max_chunks_whatever_the_time() -> None:
    points = SeekPoints(RULE, now=0.0)
    for i in range(299):
        points.chunk(False, now=i / 30)
    assert not points.due(now=10.0)
    points.chunk(False, now=10.0)
    assert points.due(now=10.0)


def test_fewer_frames_mean_seek_points_further_apart() -> None:
    # 10 chunks a second: the 300th comes after 30 s, not at the old fixed 10 s.
    points = SeekPoints(RULE, now=0.0)
    t = 0.0
    while not points.due(t):
        t += 0.1
        points.chunk(False, now=t)
    assert 29.9 <= t <= 30.1


def test_any_key_chunk_is_a_seek_point_and_starts_the_count_again() -> None:
    points = SeekPoints(RULE, now=0.0)
    for i in range(250):
        points.chunk(False, now=i / 30)
    points.chunk(True, now=9.0)  # a viewer joined: a key chunk anyway
    for i in range(100):
        points.chunk(False, now=9.0 + i / 30)
    assert points.chunks_since_key == 100
    assert not points.due(now=13.0)


def test_a_quiet_screen_gets_one_after_max_seconds_if_anything_changed() -> None:
    points = SeekPoints(RULE, now=0.0)
    assert not points.due(now=59.0)
    assert not points.due(now=120.0)  # nothing since the key chunk: nothing to decode
    points.chunk(False, now=5.0)
    assert not points.due(now=59.9)
    assert points.due(now=60.0)


def test_an_unanswered_request_is_repeated_only_after_the_retry_spacing() -> None:
    points = SeekPoints(RULE, now=0.0)
    for i in range(300):
        points.chunk(False, now=i / 30)
    assert points.due(now=10.0)
    points.asked(now=10.0)
    assert not points.due(now=15.0)
    assert points.due(now=20.0)
    points.chunk(True, now=20.5)
    assert not points.due(now=21.0)
