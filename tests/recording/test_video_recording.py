"""Recording a browser's screen: VIDEO and VIDEO_CONFIG records, seek points, limits, fail closed.

The video is real: H.264 (libx264), VP9 and VP8 (libvpx) chunks encoded by PyAV
from known pictures (``video_session.py``) and recorded through SessionRecorder.
"""

from __future__ import annotations

import errno
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from supportdesk.link.frames import MAX_PAYLOAD
from supportdesk.recording import (
    RecordingReader,
    RecordingWriter,
    RecordKind,
    SessionRecorder,
    verify,
)
from supportdesk.recording import writer as writer_module
from supportdesk.recording.format import MAX_VIDEO_PAYLOAD, ChunkFlags
from supportdesk.recording.reader import Problem
from supportdesk.recording.video_format import (
    parse_video_chunk,
    parse_video_config,
)

from .session import START
from .video_session import (
    CHANNEL,
    ENCODER_EPOCH,
    HEIGHT,
    SECOND,
    VIDEO_START,
    WIDTH,
    EncodedChunk,
    encode_clip,
    record_video,
)

NUMBER = "BN-2026-0707-0808-1"


@pytest.mark.parametrize("family", ["h264", "vp9", "vp8"])
def test_every_chunk_is_recorded_as_sent_and_key_chunks_are_seek_points(
    tmp_path: Path, master_key: bytes, family: str
) -> None:
    recording = record_video(tmp_path / "v.sdrec", master_key, NUMBER, family=family)
    with RecordingReader(recording.path, master_key) as reader:
        video = [r for r in reader.records() if r.kind is RecordKind.VIDEO]
        assert [r.payload for r in video] == [c.payload for c in recording.chunks]
        assert [r.at_us for r in video] == recording.recorded_at
        assert all(r.channel == CHANNEL for r in video)
        assert reader.index.is_video(CHANNEL) and reader.index.channels == [CHANNEL]
        keys = [at for at, c in zip(recording.recorded_at, recording.chunks, strict=True) if c.key]
        assert len(keys) == 3  # 6 s, a key chunk every 2 s
        assert reader.index.keyframes(CHANNEL) == keys
        for position in reader.index.keyframe_chunks(CHANNEL):
            entry = reader.index.entries[position]
            assert (
                entry.header.flags & ChunkFlags.KEYFRAME and entry.header.flags & ChunkFlags.VIDEO
            )
            config, key = reader.read_chunk(position)[:2]
            assert config.kind is RecordKind.VIDEO_CONFIG
            assert parse_video_config(config.payload).codec == recording.codec
            assert (parse_video_config(config.payload).width, HEIGHT) == (WIDTH, HEIGHT)
            assert key.kind is RecordKind.VIDEO and parse_video_chunk(key.payload).key
            assert config.at_us == key.at_us == entry.header.first_us
        # t in the middle of the second key interval -> that interval's key chunk.
        middle = reader.index.keyframe_at_or_before(CHANNEL, keys[1] + SECOND)
        assert middle == reader.index.keyframe_chunks(CHANNEL)[1]
        assert reader.index.keyframe_at_or_before(CHANNEL, keys[0] - 1) is None
    report = verify(recording.path, master_key, recording.final_hash)
    assert report.ok, report.detail
    assert report.records == len(recording.chunks) + 3 + 3  # + configs (1 + 2 copies), states


def test_a_reconfiguration_is_the_config_of_the_next_seek_point(
    tmp_path: Path, master_key: bytes
) -> None:
    chunks = encode_clip("h264", 30, 10, 10)
    recorder = SessionRecorder.create(tmp_path / "v.sdrec", NUMBER, master_key, lambda: START)
    small = {"codec": "avc1.42C00B", "width": WIDTH, "height": HEIGHT}
    large = {"codec": "avc1.640028", "width": 1920, "height": 1080, "ignored": "x"}
    assert recorder.video_config(CHANNEL, small)
    for chunk in chunks[:15]:
        assert recorder.video(CHANNEL, chunk.payload)
    assert recorder.video_config(CHANNEL, large)
    for chunk in chunks[15:]:
        assert recorder.video(CHANNEL, chunk.payload)
    recorder.writer.close(START)
    with RecordingReader(tmp_path / "v.sdrec", master_key) as reader:
        firsts = [reader.read_chunk(p)[0] for p in reader.index.keyframe_chunks(CHANNEL)]
        configs = [parse_video_config(r.payload) for r in firsts]
        assert [c.width for c in configs] == [WIDTH, WIDTH, 1920]  # frames 0, 10 | 20
        assert configs[2].as_message() == {k: large[k] for k in ("codec", "width", "height")}
        standalone = [r for r in reader.records() if r.kind is RecordKind.VIDEO_CONFIG]
        assert len(standalone) == 2 + 3  # as sent, and copied into the three seek points


def test_chunks_before_the_first_config_are_kept_but_mark_no_seek_point(
    tmp_path: Path, master_key: bytes
) -> None:
    recording = record_video(tmp_path / "v.sdrec", master_key, NUMBER, deltas_before_config=3)
    with RecordingReader(recording.path, master_key) as reader:
        video = [r for r in reader.records() if r.kind is RecordKind.VIDEO]
        assert len(video) == len(recording.chunks) + 3
        assert reader.index.keyframes(CHANNEL)[0] == VIDEO_START
        start = reader.index.entries[reader.index.channel_starts[CHANNEL]]
        assert start.header.flags == ChunkFlags.CHANNEL_START | ChunkFlags.VIDEO
        # A key chunk with no config before it is no seek point either.
    writer = RecordingWriter.create(tmp_path / "w.sdrec", NUMBER, master_key, START)
    writer.video(2, EncodedChunk(ENCODER_EPOCH, True, b"\x00\x00\x00\x01\x67").payload, START)
    writer.close(START)
    with RecordingReader(tmp_path / "w.sdrec", master_key) as reader:
        assert reader.index.is_video(2) and reader.index.keyframes(2) == []


def test_the_video_payload_limit_is_the_links(tmp_path: Path, master_key: bytes) -> None:
    assert MAX_VIDEO_PAYLOAD == MAX_PAYLOAD
    recorder = SessionRecorder.create(tmp_path / "v.sdrec", NUMBER, master_key, lambda: START)
    assert recorder.video_config(CHANNEL, {"codec": "vp8", "width": 640, "height": 480})
    too_big = bytes([1]) + bytes(8) + bytes(MAX_VIDEO_PAYLOAD - 8)
    with pytest.raises(ValueError, match="exceeds the link's limit of 4194304 bytes"):
        recorder.video(CHANNEL, too_big)
    with pytest.raises(ValueError, match="more than 9 bytes"):
        recorder.video(CHANNEL, bytes(9))
    assert recorder.video(CHANNEL, too_big[:-1])  # exactly the limit
    for bad in (
        {"width": 640, "height": 480},
        {"codec": "vp8", "width": 0, "height": 480},
        {"codec": "vp8", "width": 640, "height": True},
        {"codec": "vp8\n", "width": 640, "height": 480},
    ):
        with pytest.raises(ValueError, match="video_config"):
            recorder.video_config(CHANNEL, bad)
    with pytest.raises(ValueError, match="use video"):
        recorder.writer.record(RecordKind.VIDEO, CHANNEL, too_big[:20], START)
    recorder.writer.close(START)
    with RecordingReader(tmp_path / "v.sdrec", master_key) as reader:
        kinds = [r.kind for r in reader.records()]
    assert kinds == [RecordKind.VIDEO_CONFIG, RecordKind.VIDEO_CONFIG, RecordKind.VIDEO]


class FullDisk:
    """The os module with a disk that is full."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_video_fails_closed_when_the_disk_is_full(
    tmp_path: Path, master_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [START]
    recorder = SessionRecorder.create(tmp_path / "v.sdrec", NUMBER, master_key, lambda: now[0])
    recorder.writer.outage_bytes = 64 * 1024
    chunks = encode_clip("h264", 10, 10, 10)
    assert recorder.video_config(CHANNEL, {"codec": "avc1.42C00B", "width": 320, "height": 192})
    monkeypatch.setattr(writer_module, "os", FullDisk())
    assert recorder.video(CHANNEL, chunks[0].payload)  # the seek point is sealed: write fails
    assert not recorder.available  # ... but the chunk is kept in memory
    big = bytes([0]) + bytes(8) + bytes(70 * 1024)
    now[0] = START + timedelta(seconds=1)
    assert not recorder.video(CHANNEL, big)  # beyond the outage buffer: not recorded
    assert recorder.video_config(CHANNEL, {"codec": "vp8", "width": 2, "height": 2})  # fits
    monkeypatch.undo()
    assert recorder.writer.probe()
    recorder.writer.close(now[0])
    report = verify(tmp_path / "v.sdrec", master_key)
    assert report.ok, report.detail
    with RecordingReader(tmp_path / "v.sdrec", master_key) as reader:
        kept = [(r.kind, len(r.payload)) for r in reader.records()]
    assert kept == [
        (RecordKind.VIDEO_CONFIG, len(b'{"codec":"avc1.42C00B","width":320,"height":192}')),
        (RecordKind.VIDEO_CONFIG, len(b'{"codec":"avc1.42C00B","width":320,"height":192}')),
        (RecordKind.VIDEO, len(chunks[0].payload)),
        (RecordKind.VIDEO_CONFIG, len(b'{"codec":"vp8","width":2,"height":2}')),
    ]


def test_a_tampered_video_chunk_fails_verification(tmp_path: Path, master_key: bytes) -> None:
    recording = record_video(tmp_path / "v.sdrec", master_key, NUMBER)
    with RecordingReader(recording.path, master_key) as reader:
        position = reader.index.keyframe_chunks(CHANNEL)[1]
        entry = reader.index.entries[position]
    data = bytearray(recording.path.read_bytes())
    data[entry.body_offset + entry.header.body_length // 2] ^= 0x01
    recording.path.write_bytes(bytes(data))
    report = verify(recording.path, master_key, recording.final_hash)
    assert report.problem is Problem.TAG_MISMATCH
    assert report.first_bad_chunk == position
