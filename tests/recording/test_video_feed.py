"""The video player feed: from any t, a fresh decoder shows the picture of t, reading O(1) chunks.

The feed's messages are decoded with PyAV the way the page decodes them with
VideoDecoder: configure on ``config``, decode every chunk, paint only from
``paint_from`` on.
"""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from supportdesk.recording import PlaybackError, RecordingReader
from supportdesk.recording.player_feed import FeedMessage
from supportdesk.recording.video_feed import VideoFeed
from supportdesk.recording.video_format import parse_video_chunk

from .video_session import CHANNEL, SECOND, VIDEO_START, VideoRecording, record_video

DECODERS = {"h264": "h264", "vp9": "vp9", "vp8": "vp8"}


@pytest.fixture(scope="module", params=["h264", "vp9", "vp8"])
def recording(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, master_key: bytes
) -> tuple[str, VideoRecording]:
    family: str = request.param
    path = tmp_path_factory.mktemp("video") / "v.sdrec"
    return family, record_video(path, master_key, "BN-2026-1234-5678-9", family=family)


def shown(family: str, messages: list[FeedMessage], until_us: int) -> np.ndarray | None:
    """The picture a page shows once it has handled every message stamped at or before t."""
    decoder: av.CodecContext | None = None
    paint_from = -1
    picture: np.ndarray | None = None
    for message in messages:
        if message.at_us > until_us:
            break
        if isinstance(message.data, str):
            command = json.loads(message.data)
            if command["type"] == "config":
                decoder = av.CodecContext.create(DECODERS[family], "r")
            elif command["type"] == "paint_from":
                paint_from = command["timestamp"]
            continue
        assert decoder is not None, "a chunk before its config"
        chunk = parse_video_chunk(message.data)
        for frame in decoder.decode(av.Packet(chunk.data)):
            if chunk.timestamp_us >= paint_from:
                picture = frame.to_ndarray(format="rgb24")
    return picture


def centre(picture: np.ndarray) -> tuple[int, int, int]:
    h, w = picture.shape[:2]
    r, g, b = picture[h // 2 - 20 : h // 2 + 20, w // 2 - 20 : w // 2 + 20].reshape(-1, 3).mean(0)
    return round(r), round(g), round(b)


@pytest.mark.parametrize(
    "at_us",
    [0, VIDEO_START, VIDEO_START + 1, 2 * SECOND + 350_000, 4 * SECOND + 299_999, 5 * SECOND],
)
def test_a_fresh_decoder_shows_the_picture_of_t(
    recording: tuple[str, VideoRecording], master_key: bytes, at_us: int
) -> None:
    family, video = recording
    with RecordingReader(video.path, master_key) as reader:
        feed = VideoFeed(reader, CHANNEL, at_us)
        messages: list[FeedMessage] = []
        start_reads = None
        for message in feed.messages():
            if message.at_us > at_us and start_reads is None:
                start_reads = reader.chunks_read
            messages.append(message)
        total_chunks = len(reader.index)
    assert feed.playable
    stamped_t = [m for m in messages if m.at_us == at_us]
    later = [m for m in messages if m.at_us > at_us]
    assert all(m.at_us >= at_us for m in messages)
    assert [m.at_us for m in later] == sorted(m.at_us for m in later)
    frame = video.frame_at(at_us)
    if frame < 0:  # before the first chunk: nothing to catch up, it all comes in time
        assert stamped_t == []
        assert json.loads(str(messages[0].data))["type"] == "config"
    else:
        head = [json.loads(m.data) for m in stamped_t[:2] if isinstance(m.data, str)]
        assert head[0] == {"type": "config", "codec": video.codec, "width": 320, "height": 192}
        assert head[1] == {"type": "paint_from", "timestamp": video.chunks[frame].timestamp_us}
        first_key = max(i for i in range(frame + 1) if video.chunks[i].key)
        binary = [m.data for m in stamped_t if isinstance(m.data, bytes)]
        assert binary == [c.payload for c in video.chunks[first_key : frame + 1]]
        picture = shown(family, messages, at_us)
        assert picture is not None
        expected = np.array(video.colour_at(at_us))
        assert np.abs(np.array(centre(picture)) - expected).max() <= 6
    # A seek reads the seek point and at most a key interval (2 s here, ticks every
    # 0.5 s -> 5 chunks and the one holding the next chunk), not the whole recording.
    assert start_reads is not None and start_reads <= 7 < total_chunks
    last = shown(family, messages, 10 * SECOND)
    assert last is not None
    assert np.abs(np.array(centre(last)) - np.array(video.colour_at(10 * SECOND))).max() <= 6


def test_a_channel_without_video_is_refused(
    recording: tuple[str, VideoRecording], master_key: bytes
) -> None:
    _, video = recording
    with RecordingReader(video.path, master_key) as reader, pytest.raises(PlaybackError):
        VideoFeed(reader, 2, 0)
