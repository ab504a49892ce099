"""A recorded browser screen of known pictures, encoded for real with PyAV.

Frame ``i`` (``fps`` a second) belongs to second ``i // fps``; the whole picture is
that second's colour (``colour(s)``), with a white bar along the top that grows
with the frame within the second, so consecutive frames differ and delta chunks
carry something. The chunks are what a browser's VideoEncoder sends: H.264 Annex B
with SPS/PPS in every key chunk (libx264, no B-frames), or VP9/VP8 (libvpx,
real-time). They are recorded through :class:`SessionRecorder` as the relay does:
a ``state`` message at consent, the ``video_config``, then one chunk per frame.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from supportdesk.recording import SessionRecorder
from supportdesk.recording.video_format import VIDEO_KEY
from tests.recording.session import START

WIDTH, HEIGHT = 320, 192
SECOND = 1_000_000
CHANNEL = 1
ENCODER_EPOCH = 9_000_000
"""The encoder's first timestamp: a browser's are not zero-based either."""
VIDEO_START = 300_000
"""When the first chunk is recorded (µs since the session start)."""

_ENCODERS = {
    "h264": (
        "libx264",
        {
            "preset": "ultrafast",
            "tune": "zerolatency",
            # FFmpeg converts RGB with BT.601: say so, as a browser's encoder does.
            "x264-params": "scenecut=0:bframes=0:colormatrix=smpte170m:colorprim=smpte170m"
            ":transfer=smpte170m:range=tv",
        },
    ),
    "vp9": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}),
    "vp8": ("libvpx", {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}),
}


_LEVELS = (40, 100, 160, 216)
PALETTE = [(r, g, b) for r in _LEVELS for g in _LEVELS for b in _LEVELS]
"""64 colours, each at least 56 from any other in some channel."""


def colour(second: int) -> tuple[int, int, int]:
    """The colour of second ``second``: 64 seconds in a row have different ones."""
    return PALETTE[(second * 23) % len(PALETTE)]


def picture(i: int, fps: int) -> np.ndarray:
    frame = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    frame[:] = colour(i // fps)
    frame[:8, : (i % fps + 1) * WIDTH // fps] = 255
    return frame


@dataclass
class EncodedChunk:
    timestamp_us: int
    key: bool
    data: bytes

    @property
    def payload(self) -> bytes:
        """As on the link: flags ‖ timestamp ‖ bytes."""
        flags = VIDEO_KEY if self.key else 0
        return bytes([flags]) + self.timestamp_us.to_bytes(8, "big") + self.data


def encode_clip(family: str, frames: int, fps: int, key_every: int) -> list[EncodedChunk]:
    """``frames`` pictures encoded with a key chunk every ``key_every`` frames."""
    name, options = _ENCODERS[family]
    context = av.CodecContext.create(name, "w")
    context.width, context.height = WIDTH, HEIGHT
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, SECOND)
    context.framerate = fps
    context.gop_size = key_every
    context.options = dict(options)
    if family == "h264":
        context.options["x264-params"] += f":keyint={key_every}:min-keyint={key_every}"
    out: list[EncodedChunk] = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(picture(i, fps), format="rgb24")
        frame.pts = ENCODER_EPOCH + i * SECOND // fps
        for packet in context.encode(frame):
            out.append(EncodedChunk(int(packet.pts), packet.is_keyframe, bytes(packet)))
    for packet in context.encode(None):
        out.append(EncodedChunk(int(packet.pts), packet.is_keyframe, bytes(packet)))
    assert len(out) == frames
    return out


def h264_codec_string(key_chunk: bytes) -> str:
    """``avc1.PPCCLL`` from the SPS in an Annex B key chunk, as a browser would name it."""
    at = key_chunk.find(b"\x00\x00\x01\x67")
    assert at >= 0, "no SPS in the key chunk"
    profile, constraints, level = key_chunk[at + 4 : at + 7]
    return f"avc1.{profile:02X}{constraints:02X}{level:02X}"


CODEC_STRINGS = {"vp9": "vp09.00.10.08", "vp8": "vp8"}


@dataclass
class VideoRecording:
    path: Path
    number: str
    seconds: int
    fps: int
    final_hash: str
    codec: str
    chunks: list[EncodedChunk]
    recorded_at: list[int] = field(default_factory=list)
    """When each chunk was recorded (µs since the session start)."""

    def frame_at(self, at_us: int) -> int:
        """The index of the frame a player shows at ``at_us`` (-1: none yet)."""
        shown = -1
        for i, at in enumerate(self.recorded_at):
            if at <= at_us:
                shown = i
        return shown

    def colour_at(self, at_us: int) -> tuple[int, int, int]:
        return colour(max(0, self.frame_at(at_us)) // self.fps)


def record_video(
    path: Path,
    master_key: bytes,
    number: str,
    *,
    family: str = "h264",
    seconds: int = 6,
    fps: int = 10,
    key_every_seconds: int = 2,
    deltas_before_config: int = 0,
) -> VideoRecording:
    """Record ``seconds`` of video through a SessionRecorder; frame i at VIDEO_START + i/fps.

    ``deltas_before_config`` extra delta chunks (copies of frame 1) are recorded before
    the config and the first key chunk: a recording that starts mid-stream.
    """
    chunks = encode_clip(family, seconds * fps, fps, key_every_seconds * fps)
    codec = h264_codec_string(chunks[0].data) if family == "h264" else CODEC_STRINGS[family]
    now = [START]
    recorder = SessionRecorder.create(path, number, master_key, lambda: now[0])

    def at(us: int) -> None:
        now[0] = START + timedelta(microseconds=us)

    def state(us: int, name: str) -> None:
        at(us)
        assert recorder.control({"type": "state", "state": name, "capabilities": ["view"]})

    state(0, "active")
    for k in range(deltas_before_config):
        at(100_000 + k)
        assert recorder.video(CHANNEL, EncodedChunk(ENCODER_EPOCH - 1, False, b"\x00" * 9).payload)
    at(VIDEO_START - 50_000)
    assert recorder.video_config(
        CHANNEL, {"type": "video_config", "codec": codec, "width": WIDTH, "height": HEIGHT}
    )
    recorded_at: list[int] = []
    for i, chunk in enumerate(chunks):
        us = VIDEO_START + i * SECOND // fps
        at(us)
        assert recorder.video(CHANNEL, chunk.payload)
        recorded_at.append(us)
        if recorder.writer.flush_due(now[0]):
            recorder.writer.tick(now[0])
    end = VIDEO_START + seconds * SECOND
    state(end - 1, "ended")
    at(end)
    final = asyncio.run(recorder.close())
    return VideoRecording(path, number, seconds, fps, final, codec, chunks, recorded_at)
