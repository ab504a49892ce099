"""Export of a recorded browser screen (video channel) to MP4 with PyAV.

H.264 and VP9 are remuxed without re-encoding: the recorded chunks become the
MP4's samples, stamped with the encoder's timestamps (µs time base, counted from
the first key chunk). The track's codec parameters come from the first key chunk
itself, opened as a one-frame elementary stream (raw H.264, IVF for VP9) and used
as the template (no encoder is opened, whose own parameters would not describe
the recorded stream). For H.264 the recorded chunks are Annex B; the track's
extradata is the SPS and PPS of the first key chunk, from which FFmpeg's MP4
muxer writes the ``avcC`` box and converts every sample to length-prefixed NAL
units. MP4 cannot hold VP8 (FFmpeg's muxer refuses it), so VP8 is decoded and
re-encoded to H.264 (libx264), as is everything when the codec or the picture size
changes mid-recording (one MP4 track has one codec and one size). Chunks before
the channel's first key chunk cannot be decoded and are left out.

Timestamps that do not increase (a page that restarted its capture) are moved on
by one frame interval past the previous one; a gap (a pause) stays a gap, shown
as the last picture before it.
"""

from __future__ import annotations

import io
import os
import statistics
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.video.codeccontext import VideoCodecContext
from av.video.stream import VideoStream

from .errors import PlaybackError
from .format import RecordKind
from .reader import RecordingReader
from .video_format import VideoConfig, parse_video_chunk, parse_video_config

__all__ = ["VideoExport", "annexb_parameter_sets", "export_video_mp4"]

Progress = Callable[[int, int], None]
MICROSECONDS = Fraction(1, 1_000_000)
DEFAULT_INTERVAL_US = 33_333
_REMUXED = {"h264": "h264", "vp9": "vp9"}
_DECODERS = {"h264": "h264", "vp9": "vp9", "vp8": "vp8", "av1": "libdav1d"}
_VIDEO_KINDS = {RecordKind.VIDEO, RecordKind.VIDEO_CONFIG}


@dataclass(frozen=True, slots=True)
class VideoExport:
    path: Path
    frames: int
    width: int
    height: int
    duration_us: int
    """The exported stream's length: last timestamp - first + one frame interval."""
    codec: str
    """The recorded WebCodecs codec string (of the first key chunk)."""
    reencoded: bool
    """True when the video was decoded and encoded again (VP8, or a mid-recording change)."""


def annexb_parameter_sets(data: bytes) -> bytes:
    """The SPS and PPS NAL units of an Annex B access unit, each behind a 4-byte start code."""
    found = [unit for unit in _nal_units(data) if unit and unit[0] & 0x1F in (7, 8)]
    if not any(unit[0] & 0x1F == 7 for unit in found) or not any(
        unit[0] & 0x1F == 8 for unit in found
    ):
        raise PlaybackError("the first H.264 key chunk carries no SPS and PPS (not Annex B?)")
    return b"".join(b"\x00\x00\x00\x01" + unit for unit in found)


def _nal_units(data: bytes) -> Iterator[bytes]:
    starts: list[int] = []
    at = data.find(b"\x00\x00\x01")
    while at >= 0:
        starts.append(at + 3)
        at = data.find(b"\x00\x00\x01", at + 3)
    for i, start in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(data)
        yield data[start:end].rstrip(b"\x00")  # the leading zero of a 4-byte start code


@dataclass(slots=True)
class _Chunk:
    at_us: int
    pts: int
    key: bool
    data: bytes
    config: VideoConfig


class _Stamps:
    """Encoder timestamps -> increasing pts from 0; counts the typical frame interval."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.offset = 0
        self.last: int | None = None
        self.steps: list[int] = []

    @property
    def interval(self) -> int:
        return int(statistics.median(self.steps[-200:])) if self.steps else DEFAULT_INTERVAL_US

    def pts(self, timestamp_us: int) -> int:
        if self.first is None:
            self.first = timestamp_us
        pts = timestamp_us - self.first + self.offset
        if self.last is not None:
            if pts <= self.last:
                self.offset += self.last + self.interval - pts
                pts = self.last + self.interval
            else:
                self.steps.append(pts - self.last)
        self.last = pts
        return pts


def _chunks(reader: RecordingReader, channel: int, first_chunk: int) -> Iterator[_Chunk]:
    stamps = _Stamps()
    config: VideoConfig | None = None
    for record in reader.records(from_chunk=first_chunk, kinds=_VIDEO_KINDS, channel=channel):
        try:
            if record.kind is RecordKind.VIDEO_CONFIG:
                config = parse_video_config(record.payload)
                continue
            chunk = parse_video_chunk(record.payload)
        except ValueError as exc:
            raise PlaybackError(f"a recorded video record is malformed: {exc}") from None
        assert config is not None  # the key chunk's chunk starts with its config
        yield _Chunk(record.at_us, stamps.pts(chunk.timestamp_us), chunk.key, chunk.data, config)


def _configs(reader: RecordingReader, channel: int) -> list[VideoConfig]:
    """The config of every seek point: reading the first record of each key chunk only."""
    out: list[VideoConfig] = []
    for position in reader.index.keyframe_chunks(channel):
        first = reader.read_chunk(position)[0]
        if first.kind is not RecordKind.VIDEO_CONFIG:
            raise PlaybackError("a video seek point does not start with its video_config")
        out.append(parse_video_config(first.payload))
    return out


def export_video_mp4(
    reader: RecordingReader,
    channel: int,
    out_path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> VideoExport:
    """Write the video of ``channel`` from its first key chunk to its end as MP4."""
    first_chunk = reader.index.first_keyframe(channel)
    if not reader.index.is_video(channel) or first_chunk is None:
        raise PlaybackError(f"the recording has no decodable video on channel {channel}")
    configs = _configs(reader, channel)
    first = configs[0]
    same = all((c.family, c.width, c.height) == (first.family, first.width, first.height)
               for c in configs)  # fmt: skip
    remux = same and first.family in _REMUXED
    if not remux and any(c.family not in _DECODERS for c in configs):
        raise PlaybackError(f"cannot export video in codec {first.codec}")
    begin = reader.index.entries[first_chunk].header.first_us
    total = max(1, reader.duration_us - begin)
    target = Path(out_path)
    frames = 0
    stamps_interval = DEFAULT_INTERVAL_US
    last_pts = 0
    key_data = _first_key_data(reader, first_chunk)
    with av.open(str(target), mode="w", format="mp4") as container:
        if remux:
            stream = _stream_like(container, first, key_data)
        else:
            stream = container.add_stream("libx264")
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = first.width, first.height
        stream.time_base = MICROSECONDS
        if not remux:
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = MICROSECONDS
            stream.options = {"crf": "20", "preset": "veryfast", "bf": "0"}
        reencoder = None if remux else _Reencoder(stream, container)
        pending: _Chunk | None = None
        steps: list[int] = []
        for chunk in _chunks(reader, channel, first_chunk):
            if pending is not None:
                steps.append(chunk.pts - pending.pts)
                _write(container, stream, reencoder, pending, chunk.pts - pending.pts)
                frames += 1
            pending = chunk
            if progress is not None:
                progress(chunk.at_us - begin, total)
        assert pending is not None  # the first key chunk is a chunk
        if steps:
            stamps_interval = int(statistics.median(steps[-200:]))
        _write(container, stream, reencoder, pending, stamps_interval)
        frames += 1
        last_pts = pending.pts
        if reencoder is not None:
            reencoder.finish()
    if progress is not None:
        progress(total, total)
    return VideoExport(
        target,
        frames,
        first.width,
        first.height,
        last_pts + stamps_interval,
        first.codec,
        not remux,
    )


def _first_key_data(reader: RecordingReader, position: int) -> bytes:
    key = reader.read_chunk(position)[1]
    try:
        return parse_video_chunk(key.payload).data
    except ValueError as exc:
        raise PlaybackError(f"the first video key chunk is malformed: {exc}") from None


def _stream_like(
    container: av.container.OutputContainer, config: VideoConfig, key_data: bytes
) -> VideoStream:
    """A remux track whose codec parameters are those of the recorded key chunk."""
    if config.family == "h264":
        annexb_parameter_sets(key_data)  # refuse a stream without in-band SPS/PPS
        source, form = key_data, "h264"
    else:  # one-frame IVF: 32-byte file header, 12-byte frame header
        fourcc = b"VP90" if config.family == "vp9" else b"VP80"
        header = struct.pack("<4sHH4sHHIIII", b"DKIF", 0, 32, fourcc, config.width,
                             config.height, 1000, 1, 1, 0)  # fmt: skip
        source, form = header + struct.pack("<IQ", len(key_data), 0) + key_data, "ivf"
    try:
        with av.open(io.BytesIO(source), "r", format=form) as template:
            stream = container.add_stream_from_template(template.streams.video[0], opaque=True)
    except (av.error.FFmpegError, IndexError) as exc:
        raise PlaybackError(f"cannot read the first key chunk as {config.codec}: {exc}") from None
    assert isinstance(stream, VideoStream)
    if config.family == "h264":
        stream.codec_context.extradata = annexb_parameter_sets(key_data)
    return stream


def _write(
    container: av.container.OutputContainer,
    stream: VideoStream,
    reencoder: _Reencoder | None,
    chunk: _Chunk,
    duration: int,
) -> None:
    if reencoder is not None:
        reencoder.feed(chunk, duration)
        return
    packet = av.Packet(chunk.data)
    packet.stream = stream
    packet.time_base = MICROSECONDS
    # Browser encoders in real-time mode never reorder frames: decode order is
    # presentation order, so dts = pts.
    packet.pts = packet.dts = chunk.pts
    packet.duration = duration
    packet.is_keyframe = chunk.key
    container.mux(packet)


class _Reencoder:
    """Decodes recorded chunks (any family, any size) and encodes them with libx264."""

    def __init__(self, stream: VideoStream, container: av.container.OutputContainer) -> None:
        self.stream = stream
        self.container = container
        self.decoder: VideoCodecContext | None = None
        self.config: VideoConfig | None = None
        self.last_frame: av.VideoFrame | None = None

    def feed(self, chunk: _Chunk, duration: int) -> None:
        if chunk.config != self.config:
            self.config = chunk.config
            decoder = av.CodecContext.create(_DECODERS[chunk.config.family], "r")
            assert isinstance(decoder, VideoCodecContext)
            self.decoder = decoder
        assert self.decoder is not None
        packet = av.Packet(chunk.data)
        packet.pts = chunk.pts
        packet.time_base = MICROSECONDS
        try:
            decoded = self.decoder.decode(packet)
        except av.error.FFmpegError as exc:
            raise PlaybackError(f"cannot decode the recorded video: {exc}") from None
        for frame in decoded:
            assert isinstance(frame, av.VideoFrame)
            self.last_frame = frame
        if self.last_frame is None:
            return  # no picture yet
        out = self.last_frame.reformat(self.stream.width, self.stream.height, "yuv420p")
        out.pts = chunk.pts
        out.time_base = MICROSECONDS
        out.duration = duration
        for encoded in self.stream.encode(out):
            self.container.mux(encoded)

    def finish(self) -> None:
        for encoded in self.stream.encode(None):
            self.container.mux(encoded)
