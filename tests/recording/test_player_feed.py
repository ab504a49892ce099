"""The player feed: from any time t, a fresh viewer shows the picture the agent saw at t."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from supportdesk.recording import PlaybackError, PlayerFeed, RecordingReader
from supportdesk.recording.rfb_decoder import ServerMessageKind, ServerStreamDecoder
from tests.rfb import viewer as v

from .session import CHANNEL, SyntheticSession


def play(recorded: SyntheticSession, key: bytes, start_us: int) -> tuple[PlayerFeed, int]:
    with RecordingReader(recorded.path, key) as reader:
        feed = PlayerFeed(reader, CHANNEL, start_us)
        messages = list(feed.messages())
        chunks = reader.chunks_read
    handshake = ServerStreamDecoder(decode_pixels=False).feed(messages[0].data)
    assert [m.kind for m in handshake] == [ServerMessageKind.HANDSHAKE]
    init = feed.server_init
    viewer = v.Viewer(init.width, init.height, feed.pixel_format)  # independent decoder
    now = [m for m in messages[1:] if m.at_us == start_us]
    later = [m for m in messages[1:] if m.at_us > start_us]
    assert messages[1:] == now + later
    assert [m.at_us for m in later] == sorted(m.at_us for m in later)
    for message in now:
        viewer.feed(message.data)
    assert np.array_equal(viewer.fb, recorded.frame_at(start_us)), f"picture at {start_us}"
    for message in later:
        viewer.feed(message.data)
        assert np.array_equal(viewer.fb, recorded.frame_at(message.at_us))
    assert np.array_equal(viewer.fb, recorded.frames[-1][1])
    return feed, chunks


@pytest.mark.parametrize("start_s", [0.0, 0.3, 5.55, 10.0, 10.01, 14.2, 20.0, 21.0, 29.9, 31.0])
def test_playback_from_any_time_shows_what_the_agent_saw(
    recorded: SyntheticSession, master_key: bytes, start_s: float
) -> None:
    start_us = int(start_s * 1_000_000)
    feed, _ = play(recorded, master_key, start_us)
    expected_keyframe = max((k for k in recorded.keyframes if k <= start_us), default=None)
    assert feed.keyframe_at_us == expected_keyframe
    assert feed.server_init.name == "customer-pc"


def test_raw_keyframes_play_too(tmp_path: Path, master_key: bytes) -> None:
    from .session import record_session

    session = record_session(
        tmp_path / "raw.sdrec", master_key, seconds=12, keyframe_encoding="raw"
    )
    play(session, master_key, 11_000_000)


def test_unknown_channel(recorded: SyntheticSession, master_key: bytes) -> None:
    with RecordingReader(recorded.path, master_key) as reader, pytest.raises(PlaybackError):
        PlayerFeed(reader, 7, 0)
