"""Export of a recorded browser screen: H.264 and VP9 remuxed as they are, VP8 re-encoded.

Read back with PyAV: the codec, the avcC extradata, the samples (the recorded
chunks, length-prefixed for H.264), the timestamps and the stream's duration
(within one frame interval of last - first timestamp), and the decoded pictures.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from supportdesk.recording import PlaybackError, RecordingReader
from supportdesk.recording.export import export_mp4
from supportdesk.recording.video_export import _nal_units, annexb_parameter_sets

from .video_session import CHANNEL, SECOND, VideoRecording, colour, record_video

FPS = 10
INTERVAL = SECOND // FPS


def _record(tmp_path: Path, key: bytes, family: str) -> VideoRecording:
    return record_video(tmp_path / "v.sdrec", key, "BN-2026-1357-2468-0", family=family, fps=FPS)


def _read_back(path: Path) -> tuple[str, bytes, list[av.Packet], float, list[np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base)
        extradata = bytes(stream.codec_context.extradata or b"")
        packets = [p for p in container.demux(stream) if p.size]
        name = stream.codec_context.name
    with av.open(str(path)) as container:
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return name, extradata, packets, duration, pictures


def _length_prefixed_units(data: bytes) -> list[bytes]:
    """Split an MP4 H.264 sample (4-byte big-endian lengths); fails unless it covers all."""
    units, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        assert size and at + 4 + size <= len(data), "not a length-prefixed sample"
        units.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return units


def _check_pictures(pictures: list[np.ndarray], frames: int) -> None:
    assert len(pictures) == frames
    for i in (0, 9, 10, 35, frames - 1):
        centre = pictures[i][80:112, 140:180].reshape(-1, 3).mean(0)
        assert np.abs(centre - np.array(colour(i // FPS))).max() <= 6, f"frame {i}"


def test_h264_is_remuxed_without_re_encoding(tmp_path: Path, master_key: bytes) -> None:
    video = _record(tmp_path, master_key, "h264")
    out = tmp_path / "v.mp4"
    progress: list[tuple[int, int]] = []
    with RecordingReader(video.path, master_key) as reader:
        result = export_mp4(reader, CHANNEL, out, progress=lambda d, t: progress.append((d, t)))
    assert result.method == "remuxed" and result.source_codec == video.codec
    assert (result.frames, result.width, result.height) == (60, 320, 192)
    assert progress[-1][0] == progress[-1][1]
    name, extradata, packets, duration, pictures = _read_back(out)
    assert name == "h264"
    # avcC: version 1, then profile, compatibility, level as in the recorded SPS.
    sps = annexb_parameter_sets(video.chunks[0].data)[5:8]
    assert extradata[0] == 1 and extradata[1:4] == sps
    # The samples are the recorded chunks, length-prefixed instead of Annex B.
    assert len(packets) == 60
    for packet, chunk in zip(packets, video.chunks, strict=True):
        assert _length_prefixed_units(bytes(packet)) == list(_nal_units(chunk.data))
        assert packet.is_keyframe == chunk.key
        assert packet.pts is not None and packet.time_base is not None
        expected_us = chunk.timestamp_us - video.chunks[0].timestamp_us
        assert round(float(packet.pts * packet.time_base) * SECOND) == expected_us
    span = (video.chunks[-1].timestamp_us - video.chunks[0].timestamp_us) / SECOND
    assert abs(duration - span) <= INTERVAL / SECOND
    assert result.duration_us == round(span * SECOND) + INTERVAL
    _check_pictures(pictures, 60)


def test_vp9_is_remuxed_and_vp8_re_encoded(tmp_path: Path, master_key: bytes) -> None:
    for family, codec, method in (("vp9", "vp9", "remuxed"), ("vp8", "h264", "re-encoded")):
        folder = tmp_path / family
        folder.mkdir()
        video = _record(folder, master_key, family)
        with RecordingReader(video.path, master_key) as reader:
            result = export_mp4(reader, CHANNEL, folder / "v.mp4")
        assert result.method == method
        name, _, packets, duration, pictures = _read_back(folder / "v.mp4")
        assert name == codec and len(packets) == 60
        if family == "vp9":
            assert [bytes(p) for p in packets] == [c.data for c in video.chunks]
        span = (video.chunks[-1].timestamp_us - video.chunks[0].timestamp_us) / SECOND
        assert abs(duration - span) <= INTERVAL / SECOND, family
        _check_pictures(pictures, 60)


def test_a_video_without_a_key_chunk_cannot_be_exported(tmp_path: Path, master_key: bytes) -> None:
    from supportdesk.recording import RecordingWriter

    from .session import START
    from .video_session import EncodedChunk

    writer = RecordingWriter.create(tmp_path / "d.sdrec", "BN-1", master_key, START)
    writer.video_config(CHANNEL, b'{"codec":"vp8","width":320,"height":192}', START)
    writer.video(CHANNEL, EncodedChunk(1, False, b"delta").payload, START)
    writer.close(START)
    with (
        RecordingReader(tmp_path / "d.sdrec", master_key) as reader,
        pytest.raises(PlaybackError, match="no decodable video"),
    ):
        export_mp4(reader, CHANNEL, tmp_path / "d.mp4")
